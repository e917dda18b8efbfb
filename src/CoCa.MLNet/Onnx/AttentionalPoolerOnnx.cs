using CoCa.MLNet.Scoring;

namespace CoCa.MLNet.Onnx;

// TEMPORARY (uncommitted): waits for the ONNX graph builder of branch onnx.
public static class AttentionalPoolerOnnx
{
    public static byte[] Build(AttentionalPoolerWeights weights) => throw new NotImplementedException("ONNX export pending");
}

using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Tests.Onnx;

/// <summary>Runs a serialized ONNX model with ONNX Runtime (all graph optimizations on, as in production).</summary>
internal sealed class OrtSession : IDisposable
{
    public OrtSession(byte[] model) => Session = new InferenceSession(model);

    public InferenceSession Session { get; }

    public Dictionary<string, (float[] Data, long[] Shape)> Run(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> inputs, params string[] outputs)
    {
        var values = inputs.Select(kv => OrtValue.CreateTensorValueFromMemory(kv.Value.Data, kv.Value.Shape)).ToList();
        try
        {
            using var options = new RunOptions();
            using var results = Session.Run(options, inputs.Keys.ToList(), values, outputs);
            var map = new Dictionary<string, (float[], long[])>();
            for (int i = 0; i < outputs.Length; i++)
                map[outputs[i]] = (results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
            return map;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Runs a model with one int64 input (e.g. token ids).</summary>
    public Dictionary<string, (float[] Data, long[] Shape)> RunInt64(string input, long[] data, long[] shape, params string[] outputs)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var options = new RunOptions();
        using var results = Session.Run(options, [input], [value], outputs);
        var map = new Dictionary<string, (float[], long[])>();
        for (int i = 0; i < outputs.Length; i++)
            map[outputs[i]] = (results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
        return map;
    }

    public Dictionary<string, (float[] Data, long[] Shape)> Run(string input, float[] data, long[] shape, params string[] outputs) =>
        Run(new Dictionary<string, (float[], long[])> { [input] = (data, shape) }, outputs);

    public void Dispose() => Session.Dispose();
}

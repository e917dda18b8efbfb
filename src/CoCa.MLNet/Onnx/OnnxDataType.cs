namespace CoCa.MLNet.Onnx;

/// <summary>ONNX tensor element types (the values of onnx.proto's <c>TensorProto.DataType</c>) this writer emits.</summary>
internal enum OnnxDataType
{
    Float = 1,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
}

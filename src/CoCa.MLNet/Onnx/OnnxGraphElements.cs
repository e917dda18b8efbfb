namespace CoCa.MLNet.Onnx;

/// <summary>A node of the graph being built (onnx.proto <c>NodeProto</c>).</summary>
internal sealed record OnnxNodeDef(string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<OnnxAttribute> Attributes);

/// <summary>A typed graph input or output (onnx.proto <c>ValueInfoProto</c> with a tensor type).</summary>
internal sealed record OnnxValueInfoDef(string Name, OnnxDataType ElementType, IReadOnlyList<OnnxDim> Dims);

/// <summary>A named constant tensor of the graph (onnx.proto <c>TensorProto</c> in <c>GraphProto.initializer</c>).</summary>
internal sealed record OnnxInitializerDef(string Name, IReadOnlyList<long> Dims, OnnxTensorData Data);

/// <summary>Everything <see cref="OnnxProtoWriter"/> needs to encode one ModelProto.</summary>
internal sealed record OnnxModelDef(
    long IrVersion,
    IReadOnlyList<(string Domain, long Version)> OpsetImports,
    string ProducerName,
    string ProducerVersion,
    string DocString,
    string GraphName,
    IReadOnlyList<OnnxNodeDef> Nodes,
    IReadOnlyList<OnnxInitializerDef> Initializers,
    IReadOnlyList<OnnxValueInfoDef> Inputs,
    IReadOnlyList<OnnxValueInfoDef> Outputs,
    IReadOnlyList<KeyValuePair<string, string>> Metadata);

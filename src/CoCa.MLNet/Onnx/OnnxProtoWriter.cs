namespace CoCa.MLNet.Onnx;

/// <summary>
/// Encodes an ONNX ModelProto with the field numbers of onnx/onnx.proto (a proto2 file: repeated scalars are
/// written unpacked, as the reference implementation does). Initializer values go out as <c>raw_data</c>.
/// </summary>
internal static class OnnxProtoWriter
{
    // ModelProto
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6,
        ModelGraph = 7, ModelOpsetImport = 8, ModelMetadataProps = 14;
    // OperatorSetIdProto, StringStringEntryProto
    private const int OpsetDomain = 1, OpsetVersion = 2, EntryKey = 1, EntryValue = 2;
    // GraphProto
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    // NodeProto
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    // AttributeProto
    private const int AttrName = 1, AttrF = 2, AttrI = 3, AttrS = 4, AttrFloats = 7, AttrInts = 8, AttrType = 20;
    // TensorProto
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensorType = 1, TensorTypeElemType = 1, TensorTypeShape = 2,
        ShapeDim = 1, DimValue = 1, DimParam = 2;

    public static void WriteModel(ProtobufWriter w, OnnxModelDef model)
    {
        w.WriteInt64(ModelIrVersion, model.IrVersion);
        if (model.ProducerName.Length > 0) w.WriteString(ModelProducerName, model.ProducerName);
        if (model.ProducerVersion.Length > 0) w.WriteString(ModelProducerVersion, model.ProducerVersion);
        if (model.DocString.Length > 0) w.WriteString(ModelDocString, model.DocString);
        w.WriteMessage(ModelGraph, g => WriteGraph(g, model));
        foreach (var (domain, version) in model.OpsetImports)
            w.WriteMessage(ModelOpsetImport, o =>
            {
                if (domain.Length > 0) o.WriteString(OpsetDomain, domain);
                o.WriteInt64(OpsetVersion, version);
            });
        foreach (var (key, value) in model.Metadata)
            w.WriteMessage(ModelMetadataProps, e =>
            {
                e.WriteString(EntryKey, key);
                e.WriteString(EntryValue, value);
            });
    }

    private static void WriteGraph(ProtobufWriter w, OnnxModelDef model)
    {
        foreach (var node in model.Nodes) w.WriteMessage(GraphNode, n => WriteNode(n, node));
        w.WriteString(GraphName, model.GraphName);
        foreach (var init in model.Initializers) w.WriteMessage(GraphInitializer, t => WriteTensor(t, init));
        foreach (var input in model.Inputs) w.WriteMessage(GraphInput, v => WriteValueInfo(v, input));
        foreach (var output in model.Outputs) w.WriteMessage(GraphOutput, v => WriteValueInfo(v, output));
    }

    private static void WriteNode(ProtobufWriter w, OnnxNodeDef node)
    {
        foreach (var input in node.Inputs) w.WriteString(NodeInput, input);
        foreach (var output in node.Outputs) w.WriteString(NodeOutput, output);
        w.WriteString(NodeName, node.Name);
        w.WriteString(NodeOpType, node.OpType);
        foreach (var attr in node.Attributes) w.WriteMessage(NodeAttribute, a => WriteAttribute(a, attr));
        if (node.Domain.Length > 0) w.WriteString(NodeDomain, node.Domain);
    }

    private static void WriteAttribute(ProtobufWriter w, OnnxAttribute attr)
    {
        w.WriteString(AttrName, attr.Name);
        switch (attr.Type)
        {
            case OnnxAttributeType.Float: w.WriteFloat(AttrF, attr.FloatValue); break;
            case OnnxAttributeType.Int: w.WriteInt64(AttrI, attr.IntValue); break;
            case OnnxAttributeType.String: w.WriteString(AttrS, attr.StringValue!); break;
            case OnnxAttributeType.Floats: foreach (var f in attr.FloatValues) w.WriteFloat(AttrFloats, f); break;
            case OnnxAttributeType.Ints: foreach (var i in attr.IntValues) w.WriteInt64(AttrInts, i); break;
            default: throw new ArgumentOutOfRangeException(nameof(attr), attr.Type, "Unsupported attribute type.");
        }
        w.WriteInt64(AttrType, (long)attr.Type);
    }

    private static void WriteTensor(ProtobufWriter w, OnnxInitializerDef init)
    {
        foreach (var d in init.Dims) w.WriteInt64(TensorDims, d);
        w.WriteInt64(TensorDataType, (long)init.Data.DataType);
        w.WriteString(TensorName, init.Name);
        w.WriteBytesField(TensorRawData, init.Data.ByteLength, init.Data.WriteRaw);
    }

    private static void WriteValueInfo(ProtobufWriter w, OnnxValueInfoDef info)
    {
        w.WriteString(ValueInfoName, info.Name);
        w.WriteMessage(ValueInfoType, type => type.WriteMessage(TypeTensorType, tensor =>
        {
            tensor.WriteInt64(TensorTypeElemType, (long)info.ElementType);
            tensor.WriteMessage(TensorTypeShape, shape =>
            {
                foreach (var dim in info.Dims)
                    shape.WriteMessage(ShapeDim, d =>
                    {
                        if (dim.Symbol is { } symbol) d.WriteString(DimParam, symbol);
                        else d.WriteInt64(DimValue, dim.Value!.Value);
                    });
            });
        }));
    }
}

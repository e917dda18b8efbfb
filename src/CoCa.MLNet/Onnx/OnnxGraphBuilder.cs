using System.Globalization;
using System.Reflection;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Onnx;

/// <summary>
/// Builds an ONNX model (one graph, default domain) and writes it with the project's own protobuf encoder.
/// Values are referred to by name: <see cref="Node(string, IReadOnlyList{string}, OnnxAttribute[])"/> returns
/// the names of the outputs it created (unique, prefixed with the current <see cref="Scope"/>), so graphs read
/// like straight-line code:
/// <code>
/// var g = new OnnxGraphBuilder("demo");
/// var x = g.Input("x", OnnxDataType.Float, "batch", 4);
/// var y = g.Node("Relu", [g.Node("Add", [x, g.ScalarFloat(1f)])]);
/// g.Output(y, "y", OnnxDataType.Float, "batch", 4);
/// g.Save("demo.onnx");
/// </code>
/// Initializer values are referenced, not copied, and streamed when the model is written.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Protobuf's hard limit for one serialized message (ONNX Runtime refuses larger models).</summary>
    public const long MaxModelBytes = int.MaxValue;

    private readonly List<OnnxNodeDef> _nodes = [];
    private readonly List<OnnxInitializerDef> _initializers = [];
    private readonly Dictionary<string, OnnxInitializerDef> _initializersByName = new(StringComparer.Ordinal);
    private readonly List<OnnxValueInfoDef> _inputs = [];
    private readonly List<OnnxValueInfoDef> _outputs = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly Stack<string> _scopes = new();

    public OnnxGraphBuilder(string graphName = "graph")
    {
        if (string.IsNullOrWhiteSpace(graphName)) throw new ArgumentException("The graph needs a name.", nameof(graphName));
        GraphName = graphName;
    }

    public string GraphName { get; }

    /// <summary>ONNX IR version written to the model (8: ONNX 1.10+, read by every current runtime).</summary>
    public long IrVersion { get; init; } = 8;

    /// <summary>Default-domain opset (17 has LayerNormalization).</summary>
    public long Opset { get; init; } = 17;

    public string ProducerName { get; init; } = "CoCa.MLNet";

    /// <summary>
    /// When true, <see cref="Blocks.LinearBlock"/> writes nn.Linear layers dynamically quantized: int8 weights per
    /// output channel, activations quantized at run time (com.microsoft DynamicQuantizeMatMul, ONNX Runtime).
    /// </summary>
    public bool QuantizeLinearWeights { get; init; }

    /// <summary>ONNX Runtime's contrib-operator domain.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    public string ProducerVersion { get; init; } =
        typeof(OnnxGraphBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";

    public string DocString { get; set; } = "";

    public int NodeCount => _nodes.Count;
    public int InitializerCount => _initializers.Count;

    /// <summary>Op types of the nodes, in graph order.</summary>
    public IEnumerable<string> OpTypes => _nodes.Select(n => n.OpType);

    /// <summary>Names of the declared graph outputs, in order.</summary>
    public IReadOnlyList<string> OutputNames => _outputs.Select(o => o.Name).ToList();

    /// <summary>Metadata key/value pairs (ModelProto.metadata_props), in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => _metadata;

    /// <summary>True when <paramref name="name"/> is an input, initializer or node output of the graph.</summary>
    public bool HasValue(string name) => _values.Contains(name);

    /// <summary>
    /// Prefixes the names of values and nodes created until the returned handle is disposed
    /// (nested scopes join with '/'). Explicit names (inputs, outputs, initializers) are not prefixed.
    /// </summary>
    public IDisposable Scope(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A scope needs a name.", nameof(name));
        _scopes.Push(_scopes.Count == 0 ? name : _scopes.Peek() + "/" + name);
        return new ScopeHandle(this, _scopes.Count);
    }

    /// <summary>Declares a graph input; returns its name.</summary>
    public string Input(string name, OnnxDataType type, params OnnxDim[] dims)
    {
        ClaimValueName(name, "graph input");
        _inputs.Add(new OnnxValueInfoDef(name, type, dims.ToArray()));
        return name;
    }

    /// <summary>
    /// Declares the value <paramref name="value"/> a graph output called <paramref name="name"/>
    /// (an Identity node renames it when the names differ). Outputs may also feed later nodes.
    /// </summary>
    public string Output(string value, string name, OnnxDataType type, params OnnxDim[] dims)
    {
        RequireValue(value, $"graph output '{name}'");
        if (_outputs.Any(o => o.Name == name)) throw new ArgumentException($"Graph output '{name}' is already declared.", nameof(name));
        if (value != name) Node("Identity", [value], [name]);
        _outputs.Add(new OnnxValueInfoDef(name, type, dims.ToArray()));
        return name;
    }

    /// <summary>Adds an initializer (a named constant); returns its name.</summary>
    public string Initializer(string name, OnnxTensorData data, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"Initializer '{name}': dimension {d} is negative.", nameof(dims));
            count *= d;
        }
        if (count != data.ElementCount)
            throw new ArgumentException($"Initializer '{name}': shape [{string.Join(", ", dims)}] holds {count} values, the data has {data.ElementCount}.", nameof(dims));
        ClaimValueName(name, "initializer");
        var def = new OnnxInitializerDef(name, dims.ToArray(), data);
        _initializers.Add(def);
        _initializersByName[name] = def;
        return name;
    }

    /// <summary>Adds a float32 initializer referencing <paramref name="values"/> (not copied).</summary>
    public string Initializer(string name, ReadOnlyMemory<float> values, params long[] dims) =>
        Initializer(name, OnnxTensorData.Float(values), dims);

    /// <summary>Adds an int64 initializer referencing <paramref name="values"/> (not copied).</summary>
    public string Initializer(string name, long[] values, params long[] dims) =>
        Initializer(name, OnnxTensorData.Int64(values), dims);

    /// <summary>
    /// Adds <paramref name="tensor"/> under its own name, or returns the name when it was added before with the
    /// same shape (weights shared by several nodes are stored once).
    /// </summary>
    public string Weight(NamedTensor tensor, params long[] dims)
    {
        var shape = dims.Length > 0 ? dims : tensor.Shape;
        if (_initializersByName.TryGetValue(tensor.Name, out var existing))
        {
            if (!existing.Dims.SequenceEqual(shape))
                throw new ArgumentException($"Initializer '{tensor.Name}' exists with shape [{string.Join(", ", existing.Dims)}], not [{string.Join(", ", shape)}].");
            return tensor.Name;
        }
        return Initializer(tensor.Name, OnnxTensorData.Float(tensor.Data), shape);
    }

    /// <summary>
    /// Adds the transpose of the 2-D <paramref name="matrix"/> [rows, cols] as [cols, rows] under
    /// <c>{name}.T</c> (computed while writing); for PyTorch Linear weights used by MatMul.
    /// </summary>
    public string TransposedWeight(NamedTensor matrix)
    {
        if (matrix.Shape.Length != 2) throw new ArgumentException($"'{matrix.Name}' has shape {matrix.ShapeText}; a transposed weight must be 2-D.", nameof(matrix));
        var name = matrix.Name + ".T";
        if (_initializersByName.ContainsKey(name)) return name;
        int rows = checked((int)matrix.Shape[0]), cols = checked((int)matrix.Shape[1]);
        return Initializer(name, OnnxTensorData.Transposed(matrix.Data, rows, cols), cols, rows);
    }

    /// <summary>A float32 scalar constant (rank 0); equal constants are shared.</summary>
    public string ScalarFloat(float value) =>
        Constant("const_f32_" + value.ToString("R", CultureInfo.InvariantCulture), () => OnnxTensorData.Float(new[] { value }), []);

    /// <summary>An int64 scalar constant (rank 0); equal constants are shared.</summary>
    public string ScalarInt64(long value) =>
        Constant("const_i64_" + value.ToString(CultureInfo.InvariantCulture), () => OnnxTensorData.Int64(new[] { value }), []);

    /// <summary>A 1-D int64 constant (shapes, axes, indices); equal constants are shared.</summary>
    public string Int64s(params long[] values)
    {
        var copy = values.ToArray();
        return Constant("const_i64_[" + string.Join(",", copy) + "]", () => OnnxTensorData.Int64(copy), [copy.Length]);
    }

    /// <summary>A 1-D float32 constant; equal constants are shared.</summary>
    public string Floats(params float[] values)
    {
        var copy = values.ToArray();
        return Constant("const_f32_[" + string.Join(",", copy.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]",
            () => OnnxTensorData.Float(copy), [copy.Length]);
    }

    /// <summary>Adds a node with one output; returns the output's (generated, unique) name.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, outputCount: 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs; returns their generated names.</summary>
    public string[] Node(string opType, IReadOnlyList<string> inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        if (outputCount < 1) throw new ArgumentOutOfRangeException(nameof(outputCount), outputCount, "A node has at least one output.");
        RequireInputs(opType, inputs);
        var outputs = new string[outputCount];
        var stem = ScopedName(opType);
        for (int i = 0; i < outputCount; i++) outputs[i] = UniqueName(outputCount == 1 ? stem : $"{stem}:{i}", _values);
        AddNode(opType, inputs, outputs, attributes);
        return outputs;
    }

    /// <summary>Adds a node of another operator domain (e.g. <see cref="MicrosoftDomain"/>) with one output.</summary>
    public string NodeInDomain(string domain, string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        RequireInputs(opType, inputs);
        var output = UniqueName(ScopedName(opType), _values);
        _nodes.Add(new OnnxNodeDef(UniqueName(output, _nodeNames), opType, domain, inputs.ToArray(), [output], attributes.ToArray()));
        return output;
    }

    /// <summary>Adds an int8 initializer referencing <paramref name="values"/> (not copied).</summary>
    public string Initializer(string name, ReadOnlyMemory<sbyte> values, params long[] dims) =>
        Initializer(name, OnnxTensorData.Int8(values), dims);

    /// <summary>Adds a node whose outputs get exactly the names <paramref name="outputs"/>.</summary>
    public string[] Node(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        if (outputs.Count == 0) throw new ArgumentException("A node has at least one output.", nameof(outputs));
        RequireInputs(opType, inputs);
        foreach (var o in outputs) ClaimValueName(o, $"output of {opType} node");
        AddNode(opType, inputs, outputs, attributes);
        return outputs.ToArray();
    }

    /// <summary>Adds or replaces a metadata entry (ModelProto.metadata_props).</summary>
    public void SetMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata.RemoveAll(kv => kv.Key == key);
        _metadata.Add(new(key, value));
    }

    /// <summary>Serialized size of the model in bytes.</summary>
    public long MeasureSize() => ProtobufWriter.Measure(w => OnnxProtoWriter.WriteModel(w, Definition()));

    /// <summary>Writes the model to <paramref name="stream"/>; returns the number of bytes written.</summary>
    public long WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var model = Definition();
        CheckSize(ProtobufWriter.Measure(w => OnnxProtoWriter.WriteModel(w, model)));
        var writer = ProtobufWriter.To(stream);
        OnnxProtoWriter.WriteModel(writer, model);
        return writer.Position;
    }

    /// <summary>The serialized model (one exactly-sized array; weights are copied into it once).</summary>
    public byte[] ToBytes()
    {
        var model = Definition();
        long size = ProtobufWriter.Measure(w => OnnxProtoWriter.WriteModel(w, model));
        CheckSize(size);
        var bytes = new byte[size];
        using var stream = new MemoryStream(bytes, writable: true);
        OnnxProtoWriter.WriteModel(ProtobufWriter.To(stream), model);
        if (stream.Position != size) throw new InvalidOperationException($"ONNX model: measured {size} bytes, wrote {stream.Position}.");
        return bytes;
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (a temporary file beside it is renamed into place).</summary>
    public void Save(string path) => AtomicFile.Write(path, stream => WriteTo(stream));

    private static void CheckSize(long size)
    {
        if (size > MaxModelBytes)
            throw new InvalidOperationException(
                $"The ONNX model would take {size:N0} bytes; a single protobuf file is limited to {MaxModelBytes:N0} bytes (2 GiB).");
    }

    private OnnxModelDef Definition()
    {
        if (_outputs.Count == 0) throw new InvalidOperationException($"Graph '{GraphName}' declares no outputs.");
        var domains = _nodes.Select(n => n.Domain).Where(d => d.Length > 0).Distinct().Select(d => (d, 1L));
        return new OnnxModelDef(IrVersion, [("", Opset), .. domains], ProducerName, ProducerVersion, DocString, GraphName,
            _nodes, _initializers, _inputs, _outputs, _metadata);
    }

    private void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, OnnxAttribute[] attributes)
    {
        var nodeName = UniqueName(outputs[0], _nodeNames);
        _nodes.Add(new OnnxNodeDef(nodeName, opType, "", inputs.ToArray(), outputs.ToArray(), attributes.ToArray()));
    }

    private void RequireInputs(string opType, IReadOnlyList<string> inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var input in inputs)
            if (input.Length > 0) RequireValue(input, $"{opType} node");   // "" marks an omitted optional input
    }

    private string Constant(string name, Func<OnnxTensorData> data, long[] dims)
    {
        if (_constants.TryGetValue(name, out var existing)) return existing;
        var unique = name;
        for (int i = 1; _values.Contains(unique); i++) unique = name + "_" + i.ToString(CultureInfo.InvariantCulture);
        Initializer(unique, data(), dims);
        _constants[name] = unique;
        return unique;
    }

    private void RequireValue(string name, string user)
    {
        if (!_values.Contains(name))
            throw new ArgumentException($"The {user} uses '{name}', which is no graph input, initializer or earlier node output.");
    }

    private void ClaimValueName(string name, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_values.Add(name)) throw new ArgumentException($"Cannot add {what} '{name}': the graph already has a value of that name.", nameof(name));
    }

    private string ScopedName(string stem) => _scopes.Count == 0 ? stem : _scopes.Peek() + "/" + stem;

    private static string UniqueName(string stem, HashSet<string> taken)
    {
        var name = stem;
        for (int i = 1; !taken.Add(name); i++) name = stem + "_" + i.ToString(CultureInfo.InvariantCulture);
        return name;
    }

    private sealed class ScopeHandle(OnnxGraphBuilder owner, int depth) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            if (owner._scopes.Count != depth) throw new InvalidOperationException("Scopes must be closed innermost first.");
            owner._scopes.Pop();
            _disposed = true;
        }
    }
}

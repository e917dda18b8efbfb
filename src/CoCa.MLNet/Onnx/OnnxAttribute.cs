namespace CoCa.MLNet.Onnx;

/// <summary>onnx.proto's <c>AttributeProto.AttributeType</c> values this writer emits.</summary>
internal enum OnnxAttributeType
{
    Float = 1,
    Int = 2,
    String = 3,
    Floats = 6,
    Ints = 7,
}

/// <summary>A node attribute (e.g. <c>OnnxAttribute.Int("axis", -1)</c>).</summary>
internal sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeType type)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("An ONNX attribute needs a name.", nameof(name));
        Name = name;
        Type = type;
    }

    public string Name { get; }
    public OnnxAttributeType Type { get; }
    public float FloatValue { get; private init; }
    public long IntValue { get; private init; }
    public string? StringValue { get; private init; }
    public IReadOnlyList<float> FloatValues { get; private init; } = [];
    public IReadOnlyList<long> IntValues { get; private init; } = [];

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeType.Float) { FloatValue = value };
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeType.Int) { IntValue = value };
    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeType.String) { StringValue = value ?? throw new ArgumentNullException(nameof(value)) };
    public static OnnxAttribute Floats(string name, params float[] values) => new(name, OnnxAttributeType.Floats) { FloatValues = values.ToArray() };
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeType.Ints) { IntValues = values.ToArray() };

    public override string ToString() => Type switch
    {
        OnnxAttributeType.Float => $"{Name}={FloatValue}",
        OnnxAttributeType.Int => $"{Name}={IntValue}",
        OnnxAttributeType.String => $"{Name}=\"{StringValue}\"",
        OnnxAttributeType.Floats => $"{Name}=[{string.Join(",", FloatValues)}]",
        _ => $"{Name}=[{string.Join(",", IntValues)}]",
    };
}

namespace CoCa.MLNet.Onnx;

/// <summary>
/// One dimension of a graph input or output: a fixed size or a symbolic name such as <c>"batch"</c>.
/// Converts implicitly from <see cref="long"/>, <see cref="int"/> and <see cref="string"/>, so shapes read
/// naturally: <c>builder.Input("pixel_values", OnnxDataType.Float, "batch", 3, 224, 224)</c>.
/// </summary>
internal readonly record struct OnnxDim
{
    private OnnxDim(long? value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or null for a symbolic dimension.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name, or null for a fixed dimension.</summary>
    public string? Symbol { get; }

    public static OnnxDim Fixed(long value) => value >= 0
        ? new OnnxDim(value, null)
        : throw new ArgumentOutOfRangeException(nameof(value), value, "An ONNX dimension is at least 0.");

    public static OnnxDim Symbolic(string name) => !string.IsNullOrWhiteSpace(name)
        ? new OnnxDim(null, name)
        : throw new ArgumentException("A symbolic ONNX dimension needs a name.", nameof(name));

    public static implicit operator OnnxDim(long value) => Fixed(value);
    public static implicit operator OnnxDim(int value) => Fixed(value);
    public static implicit operator OnnxDim(string name) => Symbolic(name);

    public override string ToString() => Symbol ?? Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

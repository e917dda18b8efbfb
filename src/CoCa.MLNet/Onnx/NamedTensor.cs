using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Onnx;

/// <summary>
/// A named float32 tensor view (row-major) used as a model weight: a checkpoint tensor or a slice of one,
/// e.g. the W_q rows of a packed <c>in_proj_weight</c>. Holds no copy of the values.
/// </summary>
internal readonly record struct NamedTensor
{
    public NamedTensor(string name, ReadOnlyMemory<float> data, params long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values but {data.Length} were given.");
        Name = name;
        Data = data;
        Shape = shape;
    }

    public string Name { get; }
    public ReadOnlyMemory<float> Data { get; }
    public long[] Shape { get; }
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    public static NamedTensor From(CheckpointTensor tensor) => new(tensor.Name, tensor.Data, tensor.Shape);

    /// <summary>
    /// Rows [<paramref name="start"/>, start+<paramref name="count"/>) along the first axis, named
    /// <paramref name="name"/> (e.g. <c>…attn.in_proj_weight.q</c>).
    /// </summary>
    public NamedTensor Rows(long start, long count, string name)
    {
        if (Shape.Length == 0) throw new InvalidOperationException($"Tensor '{Name}' is a scalar; it has no rows.");
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside '{Name}' {ShapeText}.");
        long rowSize = 1;
        for (int i = 1; i < Shape.Length; i++) rowSize *= Shape[i];
        var shape = Shape.ToArray();
        shape[0] = count;
        return new NamedTensor(name, Data.Slice(checked((int)(start * rowSize)), checked((int)(count * rowSize))), shape);
    }

    public override string ToString() => $"{Name} {ShapeText}";
}

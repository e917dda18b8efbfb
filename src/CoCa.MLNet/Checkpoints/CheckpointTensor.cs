namespace CoCa.MLNet.Checkpoints;

/// <summary>Element type a tensor had in the checkpoint file (values are always handed out as float32).</summary>
internal enum CheckpointDType { Float32, Float16, BFloat16, Float64, Int64, Int32, UInt8, Bool }

/// <summary>One named tensor of a state dict, converted to contiguous row-major float32.</summary>
internal sealed class CheckpointTensor
{
    public CheckpointTensor(string name, long[] shape, float[] data, CheckpointDType sourceType = CheckpointDType.Float32)
    {
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values but {data.Length} were given.");
        Name = name;
        Shape = shape;
        Data = data;
        SourceType = sourceType;
    }

    public string Name { get; }
    public long[] Shape { get; }
    /// <summary>Contiguous row-major values.</summary>
    public float[] Data { get; }
    public CheckpointDType SourceType { get; }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    public bool HasShape(params long[] expected) => Shape.AsSpan().SequenceEqual(expected);
}

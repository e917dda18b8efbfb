using System.Globalization;

namespace CoCa.MLNet.Runtime;

/// <summary>
/// Where a model runs, named the same way everywhere (ONNX Runtime sessions, TorchSharp training, the CLI's
/// <c>--device</c>): <c>"cpu"</c>, <c>"cuda"</c> (= <c>"cuda:0"</c>) or <c>"cuda:N"</c>, case-insensitive.
/// </summary>
public readonly record struct ComputeDevice
{
    private ComputeDevice(int? cudaIndex) => CudaIndex = cudaIndex;

    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu => default;

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static ComputeDevice Cuda(int index = 0) =>
        index >= 0 ? new(index) : throw new ArgumentOutOfRangeException(nameof(index), index, "A CUDA device index is 0 or more.");

    /// <summary>The CUDA device index, or null for the CPU.</summary>
    public int? CudaIndex { get; }

    public bool IsCuda => CudaIndex is not null;

    /// <summary>"cpu" or "cuda:N": the canonical name, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => CudaIndex is int i ? string.Create(CultureInfo.InvariantCulture, $"cuda:{i}") : "cpu";

    /// <summary>Reads "cpu", "cuda" or "cuda:N" (case-insensitive, surrounding spaces ignored).</summary>
    /// <exception cref="ArgumentException">Any other text, with one line naming it and what is expected.</exception>
    public static ComputeDevice Parse(string? device) =>
        TryParse(device, out var parsed) ? parsed
            : throw new ArgumentException($"Device '{device}' is not recognised; expected \"cpu\", \"cuda\" or \"cuda:N\".");

    public static bool TryParse(string? device, out ComputeDevice result)
    {
        result = Cpu;
        if (device is null) return false;
        var text = device.Trim();
        if (text.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("cuda", StringComparison.OrdinalIgnoreCase)) { result = new(0); return true; }
        if (text.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            result = new(index);
            return true;
        }
        return false;
    }
}

using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training;

/// <summary>
/// Whether a device computes bfloat16 matrix products natively, and the trainers' choice of precision from it. On a
/// CPU without bfloat16 instructions libtorch still runs bfloat16, but emulated, slower than float32: a bfloat16
/// request there trains in float32 after one line saying so.
/// </summary>
internal static class BFloat16Support
{
    private static readonly Lazy<bool> Cpu = new(CpuHasBFloat16);
    private static readonly ConcurrentDictionary<int, bool> Cuda = new();

    /// <summary>
    /// CPU: the AVX-512 BF16 or AMX-BF16 instructions (CPUID; on ARM Linux the <c>bf16</c> feature of
    /// <c>/proc/cpuinfo</c>), what oneDNN's bfloat16 kernels use. CUDA: a bfloat16 matrix product runs on the device.
    /// </summary>
    public static bool IsSupported(Device device) =>
        device.type == DeviceType.CPU ? Cpu.Value : Cuda.GetOrAdd(device.index, _ => CudaRunsBFloat16(device));

    /// <summary>
    /// The precision to train at: <paramref name="requested"/>, except bfloat16 on a device without support
    /// (<paramref name="probe"/>, <see cref="IsSupported"/> by default), which gives float32 and one line to <paramref name="say"/>.
    /// </summary>
    public static TrainingPrecision Resolve(TrainingPrecision requested, Device device, Action<string>? say, Func<Device, bool>? probe = null)
    {
        if (requested != TrainingPrecision.BFloat16 || (probe ?? IsSupported)(device)) return requested;
        say?.Invoke(device.type == DeviceType.CPU
            ? "bf16 precision was requested, but this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX-BF16); training in fp32."
            : $"bf16 precision was requested, but {device} cannot run bfloat16 matrix products; training in fp32.");
        return TrainingPrecision.Float32;
    }

    private static bool CpuHasBFloat16()
    {
        if (X86Base.IsSupported)
        {
            if (X86Base.CpuId(0, 0).Eax < 7) return false;
            var (maxSubLeaf, _, _, leaf7Edx) = X86Base.CpuId(7, 0);
            bool amxBf16 = (leaf7Edx & (1 << 22)) != 0;
            bool avx512Bf16 = maxSubLeaf >= 1 && Avx512F.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
            return avx512Bf16 || amxBf16;
        }
        try
        {
            return File.ReadLines("/proc/cpuinfo").Any(line => line.StartsWith("Features", StringComparison.Ordinal)
                && line.Split(':', 2)[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("bf16"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool CudaRunsBFloat16(Device device)
    {
        try
        {
            using var scope = NewDisposeScope();
            var a = torch.ones(8, 8, dtype: ScalarType.BFloat16, device: device);
            return a.matmul(a).to(ScalarType.Float32).cpu().data<float>()[0] == 8f;
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }
}

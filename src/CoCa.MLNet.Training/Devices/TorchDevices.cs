using CoCa.MLNet.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Devices;

/// <summary>Turns device names ("cpu", "cuda", "cuda:N", the same as ONNX Runtime's <see cref="OnnxExecutionOptions.Device"/>) into TorchSharp devices.</summary>
/// <remarks>
/// This project references the CPU build of libtorch (<c>libtorch-cpu-linux-x64</c>), so CUDA is never available in it.
/// To run on an NVIDIA GPU, replace that package reference in <c>CoCa.MLNet.Training.csproj</c> with
/// <c>TorchSharp-cuda-linux</c> (or <c>TorchSharp-cuda-windows</c>) of the same TorchSharp version, which brings the
/// CUDA libtorch native libraries; the code here needs no change, and "cuda"/"cuda:N" then resolve when a
/// driver and device are present.
/// </remarks>
internal static class TorchDevices
{
    /// <summary>
    /// Names read by <see cref="ComputeDevice.Parse"/> (the one parser of device names, shared with ONNX Runtime):
    /// "cpu" → CPU; "cuda" → cuda:0; "cuda:N" → GPU N. Throws <see cref="ArgumentException"/> for any other text or an
    /// index beyond the visible GPUs, and <see cref="InvalidOperationException"/> when CUDA is requested but this
    /// process's libtorch has no CUDA. Before TorchSharp loads libtorch (every trainer asks for its device first), a
    /// libtorch that cannot load here is a <see cref="PlatformNotSupportedException"/> saying why in one line.
    /// </summary>
    public static Device Parse(string device)
    {
        var parsed = ComputeDevice.Parse(device);
        LibTorchLoadCheck.EnsureLoadable();
        return ToTorch(parsed, device);
    }

    private static Device ToTorch(ComputeDevice parsed, string device)
    {
        if (parsed.CudaIndex is not int index) return torch.CPU;
        if (!torch.cuda.is_available())
            throw new InvalidOperationException(
                $"Device '{device}' needs CUDA, which is not available: this build uses the CPU libtorch (libtorch-cpu-linux-x64), " +
                "or no NVIDIA driver/GPU is visible. Use \"cpu\", or reference TorchSharp-cuda-linux instead of libtorch-cpu-linux-x64.");
        int count = torch.cuda.device_count();
        if (index >= count)
            throw new ArgumentException($"Device '{device}' does not exist: {count} CUDA device(s) are visible (cuda:0 … cuda:{count - 1}).", nameof(device));
        return torch.device(DeviceType.CUDA, index);
    }
}

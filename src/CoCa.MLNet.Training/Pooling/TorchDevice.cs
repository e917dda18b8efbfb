using TorchSharp;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>Parses the trainer's device option ("cpu", "cuda", "cuda:N") and checks that this libtorch can use it.</summary>
internal static class TorchDevice
{
    public static torch.Device Parse(string? device)
    {
        var text = (device ?? "cpu").Trim().ToLowerInvariant();
        if (text == "cpu") return torch.CPU;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (text.Length > 5 && !int.TryParse(text.AsSpan(5), out index) || index < 0)
                throw new ArgumentException($"Device '{device}' is not valid: use \"cpu\", \"cuda\" or \"cuda:N\" (N ≥ 0).", nameof(device));
            if (!torch.cuda.is_available())
                throw new NotSupportedException(
                    $"Device '{device}' needs CUDA, but the libtorch loaded in this process has no usable CUDA device " +
                    "(CoCa.MLNet.Training ships the CPU build, libtorch-cpu). To train on a GPU, reference TorchSharp-cuda-linux " +
                    "(or TorchSharp-cuda-windows) in the application instead of libtorch-cpu, on a machine with an NVIDIA driver; or use \"cpu\".");
            int count = torch.cuda.device_count();
            if (index >= count)
                throw new ArgumentException($"Device '{device}': this machine has {count} CUDA device(s) (cuda:0 … cuda:{count - 1}).", nameof(device));
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{device}' is not valid: use \"cpu\", \"cuda\" or \"cuda:N\".", nameof(device));
    }
}

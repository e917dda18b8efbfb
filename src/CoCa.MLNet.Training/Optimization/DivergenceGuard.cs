using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// The trainers' cheap checks for divergence (<see cref="TrainingDivergedException"/>): each reads what it needs in one
/// transfer from the device, never one per parameter.
/// </summary>
internal static class DivergenceGuard
{
    /// <summary>
    /// The loss of a step and the global L2 norm of <paramref name="parameters"/>' gradients (parameters without a
    /// gradient count as zero), read together in one transfer: the loss is read for the progress reports anyway.
    /// </summary>
    public static (double Loss, double GradientNorm) ReadLossAndGradientNorm(Tensor loss, IEnumerable<Tensor> parameters)
    {
        using var scope = NewDisposeScope();
        var both = torch.stack([loss.detach().reshape(1).to(ScalarType.Float32), GradientNorm(parameters, loss.device).reshape(1)]).cpu();
        var values = both.data<float>().ToArray();
        return (values[0], values[1]);
    }

    /// <summary>
    /// The loss of a step and the global L2 norm of <paramref name="parameters"/>' gradients, which are then clipped to
    /// <paramref name="clipNorm"/> when it is positive: clipping measures the norm anyway (its own transfer); without
    /// clipping, loss and norm come in one transfer (<see cref="ReadLossAndGradientNorm"/>).
    /// </summary>
    public static (double Loss, double GradientNorm) ReadLossAndClipGradients(Tensor loss, IReadOnlyList<Tensor> parameters, double clipNorm)
    {
        if (clipNorm <= 0) return ReadLossAndGradientNorm(loss, parameters);
        double lossValue = loss.item<float>();
        return (lossValue, ReadGradientNormAndClip(parameters, clipNorm, loss.device));
    }

    /// <summary>
    /// The global L2 norm of <paramref name="parameters"/>' gradients, which are clipped to <paramref name="clipNorm"/>
    /// when it is positive (clipping measures the norm anyway); without clipping, one fused norm (<see cref="ReadGradientNorm"/>).
    /// </summary>
    public static double ReadGradientNormAndClip(IReadOnlyList<Tensor> parameters, double clipNorm, Device device) =>
        clipNorm > 0
            // A norm beyond float32's range clips nothing (no float32 norm exceeds it) and libtorch refuses it as a Scalar.
            ? nn.utils.clip_grad_norm_(parameters.Cast<TorchSharp.Modules.Parameter>(), Math.Min(clipNorm, float.MaxValue))
            : ReadGradientNorm(parameters, device);

    /// <summary>The global L2 norm of the gradients as a scalar tensor on <paramref name="device"/> (no transfer).</summary>
    public static Tensor GradientNorm(IEnumerable<Tensor> parameters, Device device)
    {
        var norms = parameters.Select(p => p.grad).OfType<Tensor>().Select(g => g.detach().to(ScalarType.Float32).norm()).ToList();
        return norms.Count == 0 ? torch.zeros(1, device: device).sum() : torch.stack(norms).norm();
    }

    /// <summary>The global L2 norm of the gradients, read (one transfer); NaN or ±Inf when any gradient is.</summary>
    public static double ReadGradientNorm(IEnumerable<Tensor> parameters, Device device)
    {
        using var scope = NewDisposeScope();
        return GradientNorm(parameters, device).item<float>();
    }

    /// <summary>True when every element of <paramref name="tensors"/> is finite (one transfer).</summary>
    public static bool AllFinite(IEnumerable<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        var flags = tensors.Select(t => t.detach().isfinite().all()).ToList();
        return flags.Count == 0 || torch.stack(flags).all().item<bool>();
    }
}

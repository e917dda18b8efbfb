namespace CoCa.MLNet.Training;

/// <summary>
/// The number format of a trainer's matrix products and activations. Weights, gradients, optimizer state, losses,
/// LayerNorm, softmax and reductions are float32 either way, and so are the saved weights.
/// </summary>
public enum TrainingPrecision
{
    /// <summary>Everything in float32 (the default; results equal open_clip's fp32 training step).</summary>
    Float32,

    /// <summary>
    /// Mixed precision as <c>torch.autocast(dtype=torch.bfloat16)</c>: linear layers, attention and the patch
    /// convolution run in bfloat16 on float32 master weights (up to twice the matrix throughput on CPUs with AVX-512
    /// BF16 or AMX, about half the activation memory). Where the device lacks bfloat16 support the trainer says so in
    /// one line and trains in float32.
    /// </summary>
    BFloat16,
}

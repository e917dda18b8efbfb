using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training;

/// <summary>
/// The project's autocast (TorchSharp 0.107 has no <c>torch.autocast</c>). Every matrix product of the training
/// modules goes through here: linear layers, matmul/bmm, attention and the patch convolution. While a bfloat16
/// <see cref="Enter"/> scope is open on the thread, they cast their operands to bfloat16 and return bfloat16, as
/// autocast's lower-precision list does on the CPU; the casts of float32 parameters are differentiable, so the
/// parameters stay the float32 master weights and their gradients arrive in float32. Elementwise operations then run
/// in the dtype they get (a bfloat16 MLP hidden layer stays bfloat16, a bfloat16 branch added to the float32 residual
/// stream gives float32), and the modules call <see cref="Widen"/> where autocast's float32 policy applies: before
/// LayerNorm, softmax, losses and reductions. Outside a scope each method is the plain float32 operation.
/// </summary>
internal static class MixedPrecision
{
    [ThreadStatic] private static bool t_bfloat16;

    /// <summary>The precision of the matrix products on this thread now.</summary>
    public static TrainingPrecision Current => t_bfloat16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32;

    /// <summary>Runs this thread's matrix products at <paramref name="precision"/> until the scope is disposed (scopes nest).</summary>
    public static Scope Enter(TrainingPrecision precision)
    {
        var scope = new Scope(t_bfloat16);
        t_bfloat16 = precision == TrainingPrecision.BFloat16;
        return scope;
    }

    /// <summary>Restores the precision that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope(bool previous) : IDisposable
    {
        public void Dispose() => t_bfloat16 = previous;
    }

    /// <summary><c>input @ weightᵀ + bias</c> (<c>nn.functional.linear</c>).</summary>
    /// <param name="input">[..., in].</param>
    /// <param name="weight">[out, in].</param>
    /// <param name="bias">[out], or null.</param>
    /// <param name="sharedLowInput">
    /// <see cref="SharedLowCopy"/> of <paramref name="input"/> when several layers read it, or null: in a bfloat16
    /// training step each layer then keeps that one bfloat16 copy for its backward pass instead of its own.
    /// </param>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, Tensor? sharedLowInput = null)
    {
        if (!t_bfloat16) return nn.functional.linear(input, weight, bias);
        // Training: one node that casts the float32 weight again in the backward pass instead of keeping its bfloat16 copy.
        if (torch.is_grad_enabled() && (weight.requires_grad || input.requires_grad || bias is { requires_grad: true }))
            return BFloat16Linear.Apply(input, weight, bias, sharedLowInput);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(nn.functional.linear(sharedLowInput ?? Low(input), Low(weight), bias is null ? null : Low(bias)));
    }

    /// <summary>
    /// For an activation that several linear layers read (cross-attention's context, for its keys and its values): in a
    /// bfloat16 training step, its bfloat16 copy (no gradient) for <see cref="Linear(Tensor, Tensor, Tensor?, Tensor?)"/>
    /// to share; otherwise null (float32, no gradient, or already bfloat16: nothing to share).
    /// </summary>
    public static Tensor? SharedLowCopy(Tensor input) =>
        t_bfloat16 && torch.is_grad_enabled() && input.dtype == ScalarType.Float32 ? input.detach().to(ScalarType.BFloat16) : null;

    /// <summary>A <see cref="TorchSharp.Modules.Linear"/> layer's forward.</summary>
    public static Tensor Linear(Linear layer, Tensor input) => Linear(input, layer.weight!, layer.bias);

    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (!t_bfloat16) return a.matmul(b);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Low(a).matmul(Low(b)));
    }

    public static Tensor Bmm(Tensor a, Tensor b)
    {
        if (!t_bfloat16) return a.bmm(b);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Low(a).bmm(Low(b)));
    }

    /// <summary>A bias-free 2-D convolution with equal stride in both directions and no padding (the ViT patch embedding).</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, long stride)
    {
        if (!t_bfloat16) return nn.functional.conv2d(input, weight, null, strides: [stride, stride]);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(nn.functional.conv2d(Low(input), Low(weight), null, strides: [stride, stride]));
    }

    /// <summary>
    /// <c>scaled_dot_product_attention</c> (scale 1/√head width) under an optional additive float mask; in bfloat16 the
    /// mask (0 or −∞, exact in bfloat16) takes the queries' dtype, as the kernel requires.
    /// </summary>
    public static Tensor Attention(Tensor query, Tensor key, Tensor value, Tensor? mask)
    {
        if (!t_bfloat16) return nn.functional.scaled_dot_product_attention(query, key, value, mask);
        using var scope = NewDisposeScope();
        var lowMask = mask is not null && mask.is_floating_point() ? Low(mask) : mask;
        return scope.MoveToOuter(nn.functional.scaled_dot_product_attention(Low(query), Low(key), Low(value), lowMask));
    }

    /// <summary>
    /// A bfloat16 <paramref name="tensor"/> back in float32, anything else as it is (a float64 model stays float64):
    /// before LayerNorm, softmax, losses and reductions, and for every module's output.
    /// </summary>
    public static Tensor Widen(Tensor tensor) => tensor.dtype == ScalarType.BFloat16 ? tensor.to(ScalarType.Float32) : tensor;

    private static Tensor Low(Tensor tensor) => tensor.dtype == ScalarType.BFloat16 ? tensor : tensor.to(ScalarType.BFloat16);
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// Self-attention with the parameter layout of <c>torch.nn.MultiheadAttention</c> (as open_clip's
/// residual blocks use it): one packed <c>in_proj_weight</c> [3w, w] holding the rows [W_q; W_k; W_v],
/// <c>in_proj_bias</c> [3w] and <c>out_proj</c> (Linear w→w). Heads are contiguous slices of width w/heads;
/// no mask, no dropout (inference semantics of the vision tower).
/// </summary>
public sealed class MultiheadSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly int _heads;

    /// <param name="width">Model width w.</param>
    /// <param name="heads">Number of heads; must divide <paramref name="width"/>.</param>
    public MultiheadSelfAttention(int width, int heads) : base(nameof(MultiheadSelfAttention))
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Attention width must be positive.");
        if (heads <= 0 || width % heads != 0)
            throw new ArgumentException($"Attention width {width} is not divisible by heads {heads}.", nameof(heads));
        _heads = heads;
        // Values are placeholders: weights come from a checkpoint (or an explicit initialiser before training).
        in_proj_weight = new Parameter(torch.zeros(3L * width, width));
        in_proj_bias = new Parameter(torch.zeros(3L * width));
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    /// <param name="x">Tokens [N, L, w].</param>
    /// <returns>Attended tokens [N, L, w].</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], length = x.shape[1], width = x.shape[2];
        long headDim = width / _heads;
        // [N, L, 3w] → [3, N, heads, L, headDim]; q/k/v are the three packed row blocks.
        var qkv = nn.functional.linear(x, in_proj_weight, in_proj_bias)
            .view(n, length, 3, _heads, headDim)
            .permute(2, 0, 3, 1, 4);
        // Default SDPA scale is 1/sqrt(headDim), as in nn.MultiheadAttention.
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        var merged = attended.transpose(1, 2).reshape(n, length, width);
        return scope.MoveToOuter(out_proj.forward(merged));
    }
}

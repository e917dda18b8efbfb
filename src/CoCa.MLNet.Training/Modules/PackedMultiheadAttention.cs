using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// Attention with the parameter layout of <c>torch.nn.MultiheadAttention(w, heads)</c> (query, key and value all w wide,
/// as open_clip's residual blocks use it): one packed <c>in_proj_weight</c> [3w, w] holding the rows [W_q; W_k; W_v],
/// <c>in_proj_bias</c> [3w] and <c>out_proj</c> (Linear w→w). Heads are contiguous slices of width w/heads; scale
/// 1/sqrt(w/heads); an optional additive mask (0 or −∞) broadcast over the heads; no dropout.
/// Self-attention (<c>forward</c>) and cross-attention (<see cref="Attend"/>, the multimodal decoder's) share it.
/// </summary>
internal sealed class PackedMultiheadAttention : nn.Module<Tensor, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly int _heads;
    private readonly int _width;

    /// <param name="width">Model width w.</param>
    /// <param name="heads">Number of heads; must divide <paramref name="width"/>.</param>
    public PackedMultiheadAttention(int width, int heads) : base(nameof(PackedMultiheadAttention))
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Attention width must be positive.");
        if (heads <= 0 || width % heads != 0)
            throw new ArgumentException($"Attention width {width} is not divisible by heads {heads}.", nameof(heads));
        _heads = heads;
        _width = width;
        // Values are placeholders: weights come from a checkpoint or from CoCaInitializer.
        in_proj_weight = new Parameter(torch.zeros(3L * width, width));
        in_proj_bias = new Parameter(torch.zeros(3L * width));
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    /// <param name="x">Tokens [N, L, w].</param>
    /// <returns>Attended tokens [N, L, w].</returns>
    public override Tensor forward(Tensor x) => Attend(x, x, null);

    /// <summary>Self-attention under an additive <paramref name="mask"/> ([L, L] or [N, 1, L, L]; null for none).</summary>
    public Tensor forward(Tensor x, Tensor? mask) => Attend(x, x, mask);

    /// <summary>
    /// Queries from <paramref name="query"/> [N, Lq, w], keys and values from <paramref name="context"/> [N, Lk, w]
    /// (the same tensor for self-attention), under an optional additive <paramref name="mask"/> broadcastable to
    /// [N, heads, Lq, Lk].
    /// </summary>
    public Tensor Attend(Tensor query, Tensor context, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long n = query.shape[0], lq = query.shape[1];
        Tensor q, k, v;
        if (ReferenceEquals(query, context))
        {
            // [N, L, 3w] → [3, N, heads, L, headDim]; q/k/v are the three packed row blocks.
            var qkv = MixedPrecision.Linear(query, in_proj_weight, in_proj_bias)
                .view(n, lq, 3, _heads, _width / _heads)
                .permute(2, 0, 3, 1, 4);
            (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        }
        else
        {
            var weights = in_proj_weight.chunk(3);
            var biases = in_proj_bias.chunk(3);
            var lowContext = MixedPrecision.SharedLowCopy(context);   // keys and values keep one bf16 copy, not one each
            q = SplitHeads(MixedPrecision.Linear(query, weights[0], biases[0]));
            k = SplitHeads(MixedPrecision.Linear(context, weights[1], biases[1], lowContext));
            v = SplitHeads(MixedPrecision.Linear(context, weights[2], biases[2], lowContext));
        }
        // Default SDPA scale is 1/sqrt(headDim), as in nn.MultiheadAttention.
        var attended = MixedPrecision.Attention(q, k, v, mask);
        var merged = attended.transpose(1, 2).reshape(n, lq, _width);
        return scope.MoveToOuter(MixedPrecision.Linear(out_proj, merged));
    }

    /// <summary>[N, L, w] → [N, heads, L, w/heads].</summary>
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _width / _heads).transpose(1, 2);
}

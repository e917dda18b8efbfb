using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// Cross-attention with the parameter layout <c>torch.nn.MultiheadAttention(d, heads, kdim=w, vdim=w)</c> uses when
/// kdim ≠ d: separate <c>q_proj_weight</c> [d, d], <c>k_proj_weight</c> [d, w], <c>v_proj_weight</c> [d, w], one packed
/// <c>in_proj_bias</c> [3d] = [b_q; b_k; b_v], and <c>out_proj</c> (Linear d→d). Scale 1/sqrt(d/heads).
/// When w = d, torch stores one packed <c>in_proj_weight</c> [3d, d] instead, and so does this module.
/// </summary>
internal sealed class PoolerCrossAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Parameter? q_proj_weight;
    private readonly Parameter? k_proj_weight;
    private readonly Parameter? v_proj_weight;
    private readonly Parameter? in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly int _dim;
    private readonly int _heads;

    /// <param name="dim">Query/output width d (the model's embed_dim).</param>
    /// <param name="contextWidth">Key/value input width w (the ViT width).</param>
    /// <param name="heads">Number of heads; must divide <paramref name="dim"/>.</param>
    public PoolerCrossAttention(int dim, int contextWidth, int heads) : base(nameof(PoolerCrossAttention))
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "Pooler width must be positive.");
        if (contextWidth <= 0) throw new ArgumentOutOfRangeException(nameof(contextWidth), contextWidth, "Pooler context width must be positive.");
        if (heads <= 0 || dim % heads != 0)
            throw new ArgumentException($"Pooler width {dim} is not divisible by heads {heads}.", nameof(heads));
        _dim = dim;
        _heads = heads;
        if (dim == contextWidth)
        {
            // torch's MultiheadAttention packs the projections when kdim = vdim = embed_dim.
            in_proj_weight = new Parameter(torch.zeros(3L * dim, dim));
        }
        else
        {
            q_proj_weight = new Parameter(torch.zeros(dim, dim));
            k_proj_weight = new Parameter(torch.zeros(dim, contextWidth));
            v_proj_weight = new Parameter(torch.zeros(dim, contextWidth));
        }
        in_proj_bias = new Parameter(torch.zeros(3L * dim));
        out_proj = nn.Linear(dim, dim);
        RegisterComponents();
    }

    /// <param name="query">Queries [N, Q, d].</param>
    /// <param name="context">Keys and values [N, L, w].</param>
    /// <returns>[N, Q, d]</returns>
    public override Tensor forward(Tensor query, Tensor context)
    {
        using var scope = NewDisposeScope();
        var biases = in_proj_bias.chunk(3);
        var weights = in_proj_weight is null ? [q_proj_weight!, k_proj_weight!, v_proj_weight!] : in_proj_weight.chunk(3);
        var q = SplitHeads(MixedPrecision.Linear(query, weights[0], biases[0]));
        var lowContext = MixedPrecision.SharedLowCopy(context);   // keys and values keep one bf16 copy, not one each
        var k = SplitHeads(MixedPrecision.Linear(context, weights[1], biases[1], lowContext));
        var v = SplitHeads(MixedPrecision.Linear(context, weights[2], biases[2], lowContext));
        // Default SDPA scale is 1/sqrt(d/heads), MultiheadAttention's.
        var attended = MixedPrecision.Attention(q, k, v, null);
        var merged = attended.transpose(1, 2).reshape(query.shape[0], query.shape[1], _dim);
        return scope.MoveToOuter(MixedPrecision.Linear(out_proj, merged));
    }

    /// <summary>[N, L, d] → [N, heads, L, d/heads].</summary>
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _dim / _heads).transpose(1, 2);
}

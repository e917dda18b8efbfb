using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's <c>AttentionalPooler</c>: learned <c>query</c> [Q, d] attends over the ViT tokens.
/// <c>ln_k</c> normalises the tokens (width w, the class token included), <c>ln_q</c> the queries (width d);
/// the result is the attention output itself: no residual and no MLP.
/// </summary>
internal sealed class VisionAttentionalPooler : nn.Module<Tensor, Tensor>
{
    private readonly Parameter query;
    private readonly PoolerCrossAttention attn;
    private readonly LayerNorm ln_q;
    private readonly LayerNorm ln_k;

    /// <param name="dim">Output width d (embed_dim).</param>
    /// <param name="contextWidth">Token width w (ViT width).</param>
    /// <param name="heads">Attention heads (attn_pooler_heads).</param>
    /// <param name="queries">Number of learned queries Q (attn_pooler_queries).</param>
    public VisionAttentionalPooler(int dim, int contextWidth, int heads, int queries) : base(nameof(VisionAttentionalPooler))
    {
        if (queries <= 0) throw new ArgumentOutOfRangeException(nameof(queries), queries, "The pooler needs at least one query.");
        query = new Parameter(torch.zeros(queries, dim));
        attn = new PoolerCrossAttention(dim, contextWidth, heads);
        ln_q = nn.LayerNorm(dim, eps: 1e-5);
        ln_k = nn.LayerNorm(contextWidth, eps: 1e-5);
        RegisterComponents();
    }

    /// <param name="tokens">ViT tokens [N, L, w].</param>
    /// <returns>Pooled queries [N, Q, d] in the tokens' dtype (under bfloat16 <see cref="MixedPrecision"/> the attention itself runs in bfloat16).</returns>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var keys = ln_k.forward(tokens);
        var queries = ln_q.forward(query).unsqueeze(0).expand(tokens.shape[0], -1, -1);
        return scope.MoveToOuter(MixedPrecision.Widen(attn.forward(queries, keys)));
    }
}

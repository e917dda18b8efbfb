namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// open_clip's <c>AttentionalPooler</c>: n learned queries attend over the tokens.
/// out = MHA(ln_q(query), ln_k(x), ln_k(x)); no residual, no MLP. tokens [B, T, contextWidth] → [B, n, dModel].
/// Keys: <c>{prefix}.query</c> [n, dModel], <c>{prefix}.ln_q</c> [dModel], <c>{prefix}.ln_k</c> [contextWidth],
/// <c>{prefix}.attn.{q,k,v}_proj_weight</c>, <c>{prefix}.attn.in_proj_bias</c>, <c>{prefix}.attn.out_proj</c>.
/// When contextWidth equals dModel PyTorch packs the projections as <c>in_proj_weight</c> [3·dModel, dModel] instead.
/// </summary>
internal static class AttentionalPoolerBlock
{
    public static string Apply(OnnxGraphBuilder g, StateDictReader weights, string prefix, string tokens,
        int contextWidth, int dModel, int queries, int heads)
    {
        using var scope = g.Scope(prefix);
        var x = LayerNormBlock.Apply(g, weights, prefix + ".ln_k", tokens, contextWidth);
        var query = weights.Get(prefix + ".query", queries, dModel);
        // ln_q(query) is constant; ONNX Runtime folds it (and its q projection) when the session is created.
        var q = LayerNormBlock.Apply(g, weights, prefix + ".ln_q", g.Weight(query), dModel);
        // PyTorch MultiheadAttention packs q/k/v exactly when kdim == vdim == embed_dim.
        var attnWeights = contextWidth == dModel
            ? AttentionWeights.Packed(weights, prefix + ".attn", dModel)
            : AttentionWeights.Separate(weights, prefix + ".attn", dModel, contextWidth, contextWidth);
        return MultiHeadAttentionBlock.Apply(g, q, x, attnWeights, heads, sharedQuery: true);
    }
}

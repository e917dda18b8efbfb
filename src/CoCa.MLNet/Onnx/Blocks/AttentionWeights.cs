namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// The parameters of a PyTorch <c>nn.MultiheadAttention</c> (or open_clip's custom <c>Attention</c>, same keys),
/// as separate q/k/v projections. Weights are PyTorch [out, in]; EmbedDim is the output width of each projection.
/// </summary>
internal sealed record AttentionWeights(
    NamedTensor QueryWeight, NamedTensor QueryBias,
    NamedTensor KeyWeight, NamedTensor KeyBias,
    NamedTensor ValueWeight, NamedTensor ValueBias,
    NamedTensor OutWeight, NamedTensor OutBias)
{
    public long EmbedDim => QueryWeight.Shape[0];
    public long QueryDim => QueryWeight.Shape[1];
    public long KeyDim => KeyWeight.Shape[1];
    public long ValueDim => ValueWeight.Shape[1];

    /// <summary>
    /// Self-attention with equal dims: <c>{prefix}.in_proj_weight</c> [3E, E] = rows [W_q; W_k; W_v],
    /// <c>{prefix}.in_proj_bias</c> [3E], <c>{prefix}.out_proj.weight</c> [E, E], <c>{prefix}.out_proj.bias</c> [E].
    /// </summary>
    public static AttentionWeights Packed(StateDictReader weights, string prefix, long embedDim)
    {
        var w = weights.Get(prefix + ".in_proj_weight", 3 * embedDim, embedDim);
        var b = weights.Get(prefix + ".in_proj_bias", 3 * embedDim);
        return new AttentionWeights(
            w.Rows(0, embedDim, w.Name + ".q"), b.Rows(0, embedDim, b.Name + ".q"),
            w.Rows(embedDim, embedDim, w.Name + ".k"), b.Rows(embedDim, embedDim, b.Name + ".k"),
            w.Rows(2 * embedDim, embedDim, w.Name + ".v"), b.Rows(2 * embedDim, embedDim, b.Name + ".v"),
            weights.Get(prefix + ".out_proj.weight", embedDim, embedDim), weights.Get(prefix + ".out_proj.bias", embedDim));
    }

    /// <summary>
    /// Attention whose key/value width differs from the embed width (PyTorch keeps separate weights then):
    /// <c>{prefix}.q_proj_weight</c> [E, E], <c>k_proj_weight</c> [E, kdim], <c>v_proj_weight</c> [E, vdim],
    /// one <c>in_proj_bias</c> [3E] = [b_q; b_k; b_v], and <c>out_proj</c>.
    /// </summary>
    public static AttentionWeights Separate(StateDictReader weights, string prefix, long embedDim, long keyDim, long valueDim)
    {
        var b = weights.Get(prefix + ".in_proj_bias", 3 * embedDim);
        return new AttentionWeights(
            weights.Get(prefix + ".q_proj_weight", embedDim, embedDim), b.Rows(0, embedDim, b.Name + ".q"),
            weights.Get(prefix + ".k_proj_weight", embedDim, keyDim), b.Rows(embedDim, embedDim, b.Name + ".k"),
            weights.Get(prefix + ".v_proj_weight", embedDim, valueDim), b.Rows(2 * embedDim, embedDim, b.Name + ".v"),
            weights.Get(prefix + ".out_proj.weight", embedDim, embedDim), weights.Get(prefix + ".out_proj.bias", embedDim));
    }
}

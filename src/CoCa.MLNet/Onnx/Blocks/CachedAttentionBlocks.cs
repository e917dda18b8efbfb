namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// open_clip's residual attention blocks for incremental decoding, batch-first [B, S, W] over the S new positions:
/// <list type="bullet">
/// <item><see cref="SelfAttention"/>: causal self-attention whose keys/values of the P earlier positions come in as
/// <c>past</c> [B, H, P, hd] and leave, with the S new ones appended, as <c>present</c> [B, H, P+S, hd];</item>
/// <item><see cref="CrossAttention"/>: attention to precomputed image keys [B_img, H, hd, N] (already transposed) and
/// values [B_img, H, N, hd], where B = B_img · k (k rows per image, e.g. beams; rows of one image are adjacent).</item>
/// </list>
/// Both are pre-LN blocks with the MLP (x = x + attn(ln_1(x)); x = x + c_proj(GELU(c_fc(ln_2(x))))), the same
/// arithmetic as <see cref="ResidualAttentionBlock"/>.
/// </summary>
internal static class CachedAttentionBlocks
{
    /// <summary>A self-attention block step; returns the block output and the present keys/values.</summary>
    public static (string Output, string Key, string Value) SelfAttention(OnnxGraphBuilder g, StateDictReader weights, string prefix,
        string x, int width, int heads, int mlpWidth, string pastKey, string pastValue, string additiveMask, bool quickGelu)
    {
        using var scope = g.Scope(prefix);
        long headDim = HeadDim(width, heads);
        var h = LayerNormBlock.Apply(g, weights, prefix + ".ln_1", x, width);
        var w = AttentionWeights.Packed(weights, prefix + ".attn", width);
        var q = SplitHeads(g, LinearBlock.Apply(g, h, w.QueryWeight, w.QueryBias), heads, headDim);
        var k = SplitHeads(g, LinearBlock.Apply(g, h, w.KeyWeight, w.KeyBias), heads, headDim);
        var v = SplitHeads(g, LinearBlock.Apply(g, h, w.ValueWeight, w.ValueBias), heads, headDim);
        var key = g.Concat(2, pastKey, k);                                                  // [B,H,P+S,hd]
        var value = g.Concat(2, pastValue, v);
        var logits = g.Mul(g.MatMul(q, g.Transpose(key, 0, 1, 3, 2)), g.ScalarFloat((float)(1.0 / Math.Sqrt(headDim))));
        var context = g.MatMul(g.Softmax(g.Add(logits, additiveMask), -1), value);         // [B,H,S,hd]
        var merged = g.Reshape(g.Transpose(context, 0, 2, 1, 3), 0, 0, width);
        x = g.Add(x, LinearBlock.Apply(g, merged, w.OutWeight, w.OutBias));
        return (Mlp(g, weights, prefix, x, width, mlpWidth, quickGelu), key, value);
    }

    /// <summary>A cross-attention block over precomputed image keys (transposed) and values.</summary>
    public static string CrossAttention(OnnxGraphBuilder g, StateDictReader weights, string prefix,
        string x, int width, int heads, int mlpWidth, string imageKeyT, string imageValue, bool quickGelu)
    {
        using var scope = g.Scope(prefix);
        long headDim = HeadDim(width, heads);
        var h = LayerNormBlock.Apply(g, weights, prefix + ".ln_1", x, width);
        var w = AttentionWeights.Packed(weights, prefix + ".attn", width);
        var q = LinearBlock.Apply(g, h, w.QueryWeight, w.QueryBias);                        // [B,S,W]
        // The k rows of an image share its keys: view the queries as [B_img, k·S, W] (rows of one image are adjacent).
        var perImage = g.Concat(0, g.Shape(imageValue, 0, 1), g.Int64s(-1, heads, headDim));
        var qh = g.Transpose(g.Node("Reshape", [q, perImage]), 0, 2, 1, 3);                 // [B_img,H,k·S,hd]
        var logits = g.Mul(g.MatMul(qh, imageKeyT), g.ScalarFloat((float)(1.0 / Math.Sqrt(headDim))));
        var context = g.MatMul(g.Softmax(logits, -1), imageValue);                           // [B_img,H,k·S,hd]
        var merged = g.Node("Reshape", [g.Transpose(context, 0, 2, 1, 3), g.Shape(x, 0, 3)]); // [B,S,W]
        x = g.Add(x, LinearBlock.Apply(g, merged, w.OutWeight, w.OutBias));
        return Mlp(g, weights, prefix, x, width, mlpWidth, quickGelu);
    }

    /// <summary>
    /// The image side of a cross-attention block: ln_1_kv(image tokens) projected to keys, returned transposed
    /// [B_img, H, hd, N], and values [B_img, H, N, hd].
    /// </summary>
    public static (string KeyT, string Value) CrossKeysValues(OnnxGraphBuilder g, StateDictReader weights, string prefix,
        string imageTokens, int width, int heads)
    {
        using var scope = g.Scope(prefix);
        long headDim = HeadDim(width, heads);
        var h = LayerNormBlock.Apply(g, weights, prefix + ".ln_1_kv", imageTokens, width);
        var w = AttentionWeights.Packed(weights, prefix + ".attn", width);
        var k = g.Reshape(LinearBlock.Apply(g, h, w.KeyWeight, w.KeyBias), 0, 0, heads, headDim);
        var v = g.Reshape(LinearBlock.Apply(g, h, w.ValueWeight, w.ValueBias), 0, 0, heads, headDim);
        return (g.Transpose(k, 0, 2, 3, 1), g.Transpose(v, 0, 2, 1, 3));
    }

    private static string SplitHeads(OnnxGraphBuilder g, string x, int heads, long headDim) =>
        g.Transpose(g.Reshape(x, 0, 0, heads, headDim), 0, 2, 1, 3);

    private static string Mlp(OnnxGraphBuilder g, StateDictReader weights, string prefix, string x, int width, int mlpWidth, bool quickGelu)
    {
        var h = LayerNormBlock.Apply(g, weights, prefix + ".ln_2", x, width);
        h = LinearBlock.Apply(g, weights, prefix + ".mlp.c_fc", h, width, mlpWidth);
        h = quickGelu ? GeluBlock.Quick(g, h) : GeluBlock.Exact(g, h);
        h = LinearBlock.Apply(g, weights, prefix + ".mlp.c_proj", h, mlpWidth, width);
        return g.Add(x, h);
    }

    private static long HeadDim(int width, int heads)
    {
        if (heads < 1 || width % heads != 0) throw new ArgumentException($"Attention width {width} is not divisible into {heads} heads.", nameof(heads));
        return width / heads;
    }
}

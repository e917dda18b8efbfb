namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// Batch-first multi-head attention as PyTorch computes it: project q/k/v, split heads contiguously
/// (E = heads × head_dim), softmax(q kᵀ / √head_dim + mask) v, merge heads, out_proj.
/// Shapes: query [B, Tq, Dq] (or [Tq, Dq] when shared by every batch item, e.g. learned pooler queries),
/// keyValue [B, Tk, Dk] → output [B, Tq, E].
/// </summary>
internal static class MultiHeadAttentionBlock
{
    /// <remarks>
    /// <paramref name="additiveMask"/>: Optional float mask added to the attention logits, broadcastable to [B, heads, Tq, Tk]: e.g. [Tq, Tk] for a causal mask or [B, 1, Tq, Tk] for per-item padding (use a large negative value, or -inf, to block a key). <br/>
    /// <paramref name="sharedQuery"/>: The query has no batch axis ([Tq, Dq]) and is broadcast over the batch.<br/>
    /// </remarks>
    public static string Apply(OnnxGraphBuilder g, string query, string keyValue, AttentionWeights weights, int heads,
        string? additiveMask = null, bool sharedQuery = false)
    {
        long embed = weights.EmbedDim;
        if (heads < 1 || embed % heads != 0)
            throw new ArgumentException($"Attention width {embed} is not divisible into {heads} heads.", nameof(heads));
        long headDim = embed / heads;

        var q = LinearBlock.Apply(g, query, weights.QueryWeight, weights.QueryBias);
        var k = LinearBlock.Apply(g, keyValue, weights.KeyWeight, weights.KeyBias);
        var v = LinearBlock.Apply(g, keyValue, weights.ValueWeight, weights.ValueBias);

        // [B,T,E] → [B,T,H,hd] → q: [B,H,Tq,hd], kᵀ: [B,H,hd,Tk] (one transpose, no separate transpose of k), v: [B,H,Tk,hd].
        var qh = sharedQuery
            ? g.Transpose(g.Reshape(q, 0, heads, headDim), 1, 0, 2)
            : g.Transpose(g.Reshape(q, 0, 0, heads, headDim), 0, 2, 1, 3);
        var kt = g.Transpose(g.Reshape(k, 0, 0, heads, headDim), 0, 2, 3, 1);
        var vh = g.Transpose(g.Reshape(v, 0, 0, heads, headDim), 0, 2, 1, 3);

        // Scale after the MatMul: ONNX Runtime folds MatMul·scalar into one FusedMatMul.
        var logits = g.Mul(g.MatMul(qh, kt), g.ScalarFloat((float)(1.0 / Math.Sqrt(headDim))));
        if (additiveMask is not null) logits = g.Add(logits, additiveMask);
        var context = g.MatMul(g.Softmax(logits, -1), vh);                      // [B,H,Tq,hd]
        var merged = g.Reshape(g.Transpose(context, 0, 2, 1, 3), 0, 0, embed);    // [B,Tq,E]
        return LinearBlock.Apply(g, merged, weights.OutWeight, weights.OutBias);
    }
}

using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Tests.Onnx;

/// <summary>
/// An independent float64 forward pass of open_clip's CoCa text tower (TextTransformer, embed_cls=True), straight from
/// the state dict with naive loops, following open_clip v2.24's code path: embeddings, cls appended, causal mask plus
/// build_cls_mask's padded key mask for the cls row, resblocks, ln_final, x[:, -1] @ text_projection.
/// </summary>
internal sealed class ReferenceTextTower(CoCaModelConfig config, StateDict weights)
{
    private float[] W(string name) => weights[name].Data;

    /// <summary>Embeddings [batch, E] of <paramref name="ids"/> [batch, L].</summary>
    public double[] Forward(long[] ids, int batch) =>
        Enumerable.Range(0, batch).SelectMany(b => ForwardOne(ids.AsSpan(b * config.Text.ContextLength, config.Text.ContextLength).ToArray())).ToArray();

    /// <summary>The cls position after ln_final, before text_projection [width] (one text).</summary>
    public double[] Pooled(long[] ids)
    {
        var t = config.Text;
        int length = ids.Length, n = length + 1, width = t.Width;
        var tok = W("text.token_embedding.weight");
        var cls = W("text.cls_emb");
        var pos = W("text.positional_embedding");
        var x = new double[n * width];
        for (int i = 0; i < length; i++)
            for (int c = 0; c < width; c++) x[i * width + c] = tok[ids[i] * width + c];
        for (int c = 0; c < width; c++) x[length * width + c] = cls[c];
        for (int i = 0; i < x.Length; i++) x[i] += pos[i];

        // attn_mask: -inf strictly above the diagonal. cls_mask = pad((text != pad)[None], (1, 0, L, 0), value=True):
        // rows 0..L-1 all True; row L = [True, text[0] != pad, ..., text[L-1] != pad].
        var mask = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                bool causalOk = j <= i;
                bool clsOk = i < length || j == 0 || ids[j - 1] != t.PadId;
                mask[i * n + j] = causalOk && clsOk ? 0 : double.NegativeInfinity;
            }

        for (int l = 0; l < t.Layers; l++)
            x = ReferenceOps.ResidualBlock(x, n, width, t.Heads, t.MlpWidth, W, $"text.transformer.resblocks.{l}", mask);
        x = ReferenceOps.LayerNorm(x, n, width, W("text.ln_final.weight"), W("text.ln_final.bias"));
        return x.AsSpan(length * width, width).ToArray();
    }

    private double[] ForwardOne(long[] ids) =>
        ReferenceOps.MatMulRight(Pooled(ids), 1, config.Text.Width, W("text.text_projection"), config.EmbedDim);
}

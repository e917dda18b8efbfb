using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Tests.Onnx;

/// <summary>
/// An independent float64 forward pass of open_clip's CoCa image tower (VisionTransformer + AttentionalPooler),
/// straight from the state dict with naive loops. Slow; for small test models only.
/// </summary>
internal sealed class ReferenceVisionTower(CoCaModelConfig config, StateDict weights)
{
    public sealed record Result(double[] Tokens, double[] Embedding, double[] CaptionTokens);

    private float[] W(string name) => weights[name].Data;

    /// <summary>Runs the images of <paramref name="pixels"/> [batch, 3, S, S]; results concatenated per output.</summary>
    public Result Forward(float[] pixels, int batch)
    {
        int per = 3 * config.Vision.ImageSize * config.Vision.ImageSize;
        var results = Enumerable.Range(0, batch).Select(b => ForwardOne(pixels.AsSpan(b * per, per).ToArray())).ToList();
        return new Result(results.SelectMany(r => r.Tokens).ToArray(), results.SelectMany(r => r.Embedding).ToArray(),
            results.SelectMany(r => r.CaptionTokens).ToArray());
    }

    private Result ForwardOne(float[] image)
    {
        var v = config.Vision;
        int s = v.ImageSize, p = v.PatchSize, g = s / p, width = v.Width, t = 1 + g * g, e = config.EmbedDim;

        // conv1 (stride = kernel = patch, no bias), tokens in row-major patch order after the class token.
        var conv = W("visual.conv1.weight");
        var x = new double[t * width];
        var cls = W("visual.class_embedding");
        for (int c = 0; c < width; c++) x[c] = cls[c];
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++)
                for (int o = 0; o < width; o++)
                {
                    double acc = 0;
                    for (int ch = 0; ch < 3; ch++)
                        for (int ky = 0; ky < p; ky++)
                            for (int kx = 0; kx < p; kx++)
                                acc += (double)conv[((o * 3 + ch) * p + ky) * p + kx] * image[(ch * s + gy * p + ky) * s + gx * p + kx];
                    x[(1 + gy * g + gx) * width + o] = acc;
                }
        var pos = W("visual.positional_embedding");
        for (int i = 0; i < x.Length; i++) x[i] += pos[i];
        x = ReferenceOps.LayerNorm(x, t, width, W("visual.ln_pre.weight"), W("visual.ln_pre.bias"));
        for (int l = 0; l < v.Layers; l++)
            x = ReferenceOps.ResidualBlock(x, t, width, v.Width / v.HeadWidth, (int)(v.Width * v.MlpRatio), W, $"visual.transformer.resblocks.{l}");
        var tokens = x;

        // Attentional pooler: MHA(ln_q(query), ln_k(x), ln_k(x)), separate q/k/v weights unless width == embed_dim.
        int n = v.AttnPoolerQueries;
        var kv = ReferenceOps.LayerNorm(x, t, width, W("visual.attn_pool.ln_k.weight"), W("visual.attn_pool.ln_k.bias"));
        var query = W("visual.attn_pool.query").Select(f => (double)f).ToArray();
        var qn = ReferenceOps.LayerNorm(query, n, e, W("visual.attn_pool.ln_q.weight"), W("visual.attn_pool.ln_q.bias"));
        var bias = W("visual.attn_pool.attn.in_proj_bias");
        double[] q, k, vv;
        if (width == e && weights.ContainsKey("visual.attn_pool.attn.in_proj_weight"))
        {
            var inW = W("visual.attn_pool.attn.in_proj_weight");
            q = ReferenceOps.Linear(qn, n, e, inW, bias, e, 0, 0);
            k = ReferenceOps.Linear(kv, t, width, inW, bias, e, e, e);
            vv = ReferenceOps.Linear(kv, t, width, inW, bias, e, 2 * e, 2 * e);
        }
        else
        {
            q = ReferenceOps.Linear(qn, n, e, W("visual.attn_pool.attn.q_proj_weight"), bias, e, 0, 0);
            k = ReferenceOps.Linear(kv, t, width, W("visual.attn_pool.attn.k_proj_weight"), bias, e, 0, e);
            vv = ReferenceOps.Linear(kv, t, width, W("visual.attn_pool.attn.v_proj_weight"), bias, e, 0, 2 * e);
        }
        var pooled = ReferenceOps.Attention(q, k, vv, n, t, e, v.AttnPoolerHeads);
        pooled = ReferenceOps.Linear(pooled, n, e, W("visual.attn_pool.attn.out_proj.weight"), W("visual.attn_pool.attn.out_proj.bias"), e);
        pooled = ReferenceOps.LayerNorm(pooled, n, e, W("visual.ln_post.weight"), W("visual.ln_post.bias"));
        var embedding = ReferenceOps.MatMulRight(pooled.AsSpan(0, e).ToArray(), 1, e, W("visual.proj"), e);
        return new Result(tokens, embedding, pooled.AsSpan(e).ToArray());
    }
}

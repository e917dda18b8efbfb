using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Checkpoints;

/// <summary>One state-dict entry a config implies: its open_clip key and shape.</summary>
internal sealed record TensorSpec(string Name, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The exact open_clip CoCa state-dict keys and shapes a <see cref="CoCaModelConfig"/> implies for the
/// <c>visual.*</c> and <c>text.*</c> towers and <c>logit_scale</c> (the captioning decoder, <c>text_decoder.*</c>,
/// is not listed). Key order follows open_clip's <c>state_dict()</c>. Used to validate checkpoints and to make random ones.
/// </summary>
internal static class CoCaStateDictLayout
{
    public const string LogitScale = "logit_scale";

    /// <summary>
    /// True when the pooler's key/value width equals embed_dim: torch's MultiheadAttention then stores one packed
    /// <c>attn_pool.attn.in_proj_weight [3E, E]</c> instead of separate <c>q/k/v_proj_weight</c>.
    /// </summary>
    public static bool PoolerHasPackedInProjection(CoCaModelConfig config) => config.EmbedDim == config.Vision.Width;

    /// <summary><c>visual.*</c>: ViT trunk, attentional pooler, ln_post and proj.</summary>
    public static IReadOnlyList<TensorSpec> Vision(CoCaModelConfig config)
    {
        var v = config.Vision;
        long e = config.EmbedDim, w = v.Width, p = v.PatchSize;
        var specs = new List<TensorSpec>
        {
            new("visual.class_embedding", [w]),
            new("visual.positional_embedding", [v.GridSize * v.GridSize + 1, w]),
            new("visual.proj", [e, e]),
            new("visual.conv1.weight", [w, 3, p, p]),
            new("visual.ln_pre.weight", [w]),
            new("visual.ln_pre.bias", [w]),
        };
        for (int i = 0; i < v.Layers; i++) AddBlock(specs, $"visual.transformer.resblocks.{i}.", w, v.MlpWidth);
        specs.Add(new("visual.attn_pool.query", [v.AttnPoolerQueries, e]));
        if (PoolerHasPackedInProjection(config))
        {
            specs.Add(new("visual.attn_pool.attn.in_proj_weight", [3 * e, e]));
        }
        else
        {
            specs.Add(new("visual.attn_pool.attn.q_proj_weight", [e, e]));
            specs.Add(new("visual.attn_pool.attn.k_proj_weight", [e, w]));
            specs.Add(new("visual.attn_pool.attn.v_proj_weight", [e, w]));
        }
        specs.Add(new("visual.attn_pool.attn.in_proj_bias", [3 * e]));
        specs.Add(new("visual.attn_pool.attn.out_proj.weight", [e, e]));
        specs.Add(new("visual.attn_pool.attn.out_proj.bias", [e]));
        specs.Add(new("visual.attn_pool.ln_q.weight", [e]));
        specs.Add(new("visual.attn_pool.ln_q.bias", [e]));
        specs.Add(new("visual.attn_pool.ln_k.weight", [w]));
        specs.Add(new("visual.attn_pool.ln_k.bias", [w]));
        specs.Add(new("visual.ln_post.weight", [e]));
        specs.Add(new("visual.ln_post.bias", [e]));
        return specs;
    }

    /// <summary><c>text.*</c>: the unimodal text tower (token/position embeddings, CLS, blocks, ln_final, projection).</summary>
    public static IReadOnlyList<TensorSpec> Text(CoCaModelConfig config)
    {
        var t = config.Text;
        long w = t.Width;
        int positions = t.ContextLength + (t.EmbedCls ? 1 : 0);
        var specs = new List<TensorSpec>();
        if (t.EmbedCls) specs.Add(new("text.cls_emb", [w]));
        specs.Add(new("text.positional_embedding", [positions, w]));
        specs.Add(new("text.text_projection", [w, config.EmbedDim]));
        specs.Add(new("text.token_embedding.weight", [t.VocabSize, w]));
        for (int i = 0; i < t.Layers; i++) AddBlock(specs, $"text.transformer.resblocks.{i}.", w, t.MlpWidth);
        specs.Add(new("text.ln_final.weight", [w]));
        specs.Add(new("text.ln_final.bias", [w]));
        return specs;
    }

    /// <summary>
    /// <c>text_decoder.*</c>: the captioning decoder (open_clip's MultimodalTransformer: causal resblocks, cross_attn blocks
    /// with <c>ln_1_kv</c>, ln_final, text_projection [width, vocab]; MLP ratio 4, open_clip's multimodal_cfg default).
    /// </summary>
    public static IReadOnlyList<TensorSpec> Decoder(CoCaModelConfig config)
    {
        var m = config.Multimodal;
        long w = m.Width, mlp = 4L * m.Width;
        var specs = new List<TensorSpec> { new("text_decoder.text_projection", [w, m.VocabSize]) };
        for (int i = 0; i < m.Layers; i++) AddBlock(specs, $"text_decoder.resblocks.{i}.", w, mlp);
        for (int i = 0; i < m.Layers; i++)
        {
            AddBlock(specs, $"text_decoder.cross_attn.{i}.", w, mlp);
            specs.Add(new($"text_decoder.cross_attn.{i}.ln_1_kv.weight", [w]));
            specs.Add(new($"text_decoder.cross_attn.{i}.ln_1_kv.bias", [w]));
        }
        specs.Add(new("text_decoder.ln_final.weight", [w]));
        specs.Add(new("text_decoder.ln_final.bias", [w]));
        return specs;
    }

    /// <summary>
    /// <c>logit_scale</c> (a scalar), the text tower when <paramref name="includeText"/>, the vision tower, and the captioning
    /// decoder when <paramref name="includeDecoder"/>.
    /// </summary>
    public static IReadOnlyList<TensorSpec> All(CoCaModelConfig config, bool includeText = true, bool includeDecoder = false)
    {
        var specs = new List<TensorSpec> { new(LogitScale, []) };
        if (includeText) specs.AddRange(Text(config));
        specs.AddRange(Vision(config));
        if (includeDecoder) specs.AddRange(Decoder(config));
        return specs;
    }

    /// <summary>open_clip's ResidualAttentionBlock: ln_1, attn (packed in_proj), ln_2, mlp.c_fc/c_proj.</summary>
    private static void AddBlock(List<TensorSpec> specs, string prefix, long width, long mlpWidth)
    {
        specs.Add(new(prefix + "ln_1.weight", [width]));
        specs.Add(new(prefix + "ln_1.bias", [width]));
        specs.Add(new(prefix + "attn.in_proj_weight", [3 * width, width]));
        specs.Add(new(prefix + "attn.in_proj_bias", [3 * width]));
        specs.Add(new(prefix + "attn.out_proj.weight", [width, width]));
        specs.Add(new(prefix + "attn.out_proj.bias", [width]));
        specs.Add(new(prefix + "ln_2.weight", [width]));
        specs.Add(new(prefix + "ln_2.bias", [width]));
        specs.Add(new(prefix + "mlp.c_fc.weight", [mlpWidth, width]));
        specs.Add(new(prefix + "mlp.c_fc.bias", [mlpWidth]));
        specs.Add(new(prefix + "mlp.c_proj.weight", [width, mlpWidth]));
        specs.Add(new(prefix + "mlp.c_proj.bias", [width]));
    }
}

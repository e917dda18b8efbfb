using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Blocks;

namespace CoCa.MLNet.Onnx.Towers;

/// <summary>
/// Writes open_clip's CoCa image tower (VisionTransformer + AttentionalPooler, <c>visual.*</c> keys) as an ONNX model.
/// <list type="bullet">
/// <item>input <c>pixel_values</c> float [batch, 3, S, S] (preprocessed, normalized pixels);</item>
/// <item>output <c>tokens</c> [batch, 1+g², width]: the last resblock's output, the frozen features (no LayerNorm);</item>
/// <item>output <c>image_embedding</c> [batch, embed_dim]: ln_post(attn_pool(tokens))[:, 0] @ proj, not normalized;</item>
/// <item>output <c>caption_tokens</c> [batch, n_queries−1, embed_dim]: ln_post(attn_pool(tokens))[:, 1:].</item>
/// </list>
/// Every weight is read with its expected shape; a missing, mis-shaped or unexpected <c>visual.</c> tensor throws
/// <see cref="CheckpointException"/> naming it. The config JSON and kind "vision" go into the model's metadata.
/// </summary>
internal static class VisionTowerOnnx
{
    public const string PixelValues = "pixel_values";
    public const string Tokens = "tokens";
    public const string ImageEmbedding = "image_embedding";
    public const string CaptionTokens = "caption_tokens";
    public const string BatchDim = "batch";

    private const string Prefix = "visual";

    /// <summary>The serialized ONNX model.</summary>
    public static byte[] Build(CoCaModelConfig config, StateDict weights, VisionPrecision precision = VisionPrecision.Float32) => CreateGraph(config, weights, precision).ToBytes();

    /// <summary>Streams the ONNX model to <paramref name="stream"/> (weights are not buffered); returns bytes written.</summary>
    public static long Write(CoCaModelConfig config, StateDict weights, Stream stream, VisionPrecision precision = VisionPrecision.Float32) => CreateGraph(config, weights, precision).WriteTo(stream);

    /// <summary>Writes the ONNX model to <paramref name="path"/> atomically.</summary>
    public static void Save(CoCaModelConfig config, StateDict weights, string path) => CreateGraph(config, weights).Save(path);

    /// <summary>
    /// The graph, ready to write (its initializers reference <paramref name="weights"/>' arrays). <paramref name="precision"/>:
    /// Float32 (open_clip's numbers, the default) or Int8 (transformer Linear layers dynamically quantized).
    /// </summary>
    public static OnnxGraphBuilder CreateGraph(CoCaModelConfig config, StateDict weights, VisionPrecision precision = VisionPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        var v = config.Vision;
        Validate(config);
        int width = v.Width, patch = v.PatchSize, grid = v.GridSize, tokens = v.TokenCount, embed = config.EmbedDim;

        var g = new OnnxGraphBuilder("coca_vision")
        {
            DocString = $"open_clip CoCa image tower '{config.Name}' written by CoCa.MLNet.",
            QuantizeLinearWeights = precision == VisionPrecision.Int8,
        };
        var r = new StateDictReader(weights);
        var pixels = g.Input(PixelValues, OnnxDataType.Float, BatchDim, 3, v.ImageSize, v.ImageSize);

        string x;
        using (g.Scope(Prefix))
        {
            // Patch embedding: conv1 (no bias) → [B, W, g, g] → [B, g², W], patches in row-major (y, x) order.
            var conv = r.Get(Prefix + ".conv1.weight", width, 3, patch, patch);
            x = g.Node("Conv", [pixels, g.Weight(conv)],
                OnnxAttribute.Ints("kernel_shape", patch, patch), OnnxAttribute.Ints("strides", patch, patch));
            x = g.Transpose(g.Reshape(x, 0, width, (long)grid * grid), 0, 2, 1);

            // Prepend the class token (expanded over the batch), add the positional embedding.
            var cls = r.Get(Prefix + ".class_embedding", width);
            var batchShape = g.Concat(0, g.Shape(pixels, 0, 1), g.Int64s(1, width));
            var clsTokens = g.Expand(g.Weight(cls, 1, 1, width), batchShape);
            x = g.Concat(1, clsTokens, x);
            x = g.Add(x, g.Weight(r.Get(Prefix + ".positional_embedding", tokens, width)));
            x = LayerNormBlock.Apply(g, r, Prefix + ".ln_pre", x, width);
        }

        for (int i = 0; i < v.Layers; i++)
            x = ResidualAttentionBlock.Apply(g, r, $"{Prefix}.transformer.resblocks.{i}", x, width, v.Heads, v.MlpWidth);
        g.Output(x, Tokens, OnnxDataType.Float, BatchDim, tokens, width);

        var pooled = AttentionalPoolerBlock.Apply(g, r, Prefix + ".attn_pool", Tokens, width, embed, v.AttnPoolerQueries, v.AttnPoolerHeads);
        using (g.Scope(Prefix))
        {
            pooled = LayerNormBlock.Apply(g, r, Prefix + ".ln_post", pooled, embed);    // [B, n, E]
            var first = g.Gather(pooled, 0, axis: 1);                                    // [B, E]
            var embedding = LinearBlock.Project(g, first, r.Get(Prefix + ".proj", embed, embed));
            g.Output(embedding, ImageEmbedding, OnnxDataType.Float, BatchDim, embed);
            var captions = g.Slice(pooled, 1, v.AttnPoolerQueries, axis: 1);             // [B, n-1, E]
            g.Output(captions, CaptionTokens, OnnxDataType.Float, BatchDim, v.AttnPoolerQueries - 1, embed);
        }

        r.ThrowIfUnread(Prefix + ".",
            $"'{config.Name}' (image_size={v.ImageSize}, patch_size={v.PatchSize}, width={width}, layers={v.Layers}, " +
            $"embed_dim={embed}, attn_pooler_queries={v.AttnPoolerQueries})");

        g.SetMetadata(CoCaOnnxMetadata.KindKey, CoCaOnnxMetadata.VisionKind);
        g.SetMetadata(CoCaOnnxMetadata.ConfigKey, CoCaOnnxMetadata.ConfigJson(config));
        g.SetMetadata(CoCaOnnxMetadata.PrecisionKey, precision == VisionPrecision.Int8 ? "int8" : "float32");
        return g;
    }

    private static void Validate(CoCaModelConfig config)
    {
        var v = config.Vision;
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"CoCa config '{config.Name}': {message}", nameof(config));
        }
        Require(v.AttentionalPool, "vision_cfg.attentional_pool is false; only CoCa's attentional-pooler image tower is supported.");
        Require(v.Width > 0 && v.Layers >= 0 && v.PatchSize > 0 && v.ImageSize >= v.PatchSize,
            $"vision_cfg needs width > 0, layers ≥ 0 and image_size ≥ patch_size > 0 (width={v.Width}, layers={v.Layers}, image_size={v.ImageSize}, patch_size={v.PatchSize}).");
        Require(v.HeadWidth > 0 && v.Width % v.HeadWidth == 0, $"vision_cfg.width {v.Width} is not a multiple of head_width {v.HeadWidth}.");
        Require(v.MlpWidth > 0, $"vision_cfg.mlp_ratio {v.MlpRatio} gives an MLP width of {v.MlpWidth}.");
        Require(config.EmbedDim > 0, $"embed_dim is {config.EmbedDim}.");
        Require(v.AttnPoolerQueries >= 1, $"vision_cfg.attn_pooler_queries is {v.AttnPoolerQueries}; the first query is the contrastive one.");
        Require(v.AttnPoolerHeads > 0 && config.EmbedDim % v.AttnPoolerHeads == 0,
            $"embed_dim {config.EmbedDim} is not divisible into vision_cfg.attn_pooler_heads = {v.AttnPoolerHeads} heads.");
    }
}

using System.Text.Json;

namespace CoCa.MLNet.Configuration;

/// <summary>
/// Turns open_clip's JSON (a bare <c>model_configs/*.json</c> or a hub <c>open_clip_config.json</c> with
/// <c>model_cfg</c>/<c>preprocess_cfg</c>) into a <see cref="CoCaModelConfig"/>. Absent fields take open_clip's
/// defaults (CLIPVisionCfg / CLIPTextCfg / MultimodalCfg / PreprocessCfg), not the record's, so a user config means
/// what it means in open_clip. Settings that change the network in ways CoCa.MLNet does not implement are rejected.
/// </summary>
internal static class OpenClipConfigParser
{
    // open_clip defaults (model.py CLIPVisionCfg / CLIPTextCfg, coca_model.py MultimodalCfg).
    private const int DefaultLayers = 12, DefaultVisionWidth = 768, DefaultHeadWidth = 64, DefaultPatchSize = 16, DefaultImageSize = 224;
    private const double DefaultMlpRatio = 4.0;
    private const int DefaultPoolerQueries = 256, DefaultPoolerHeads = 8;
    private const int DefaultContextLength = 77, DefaultVocabSize = 49408, DefaultTextWidth = 512, DefaultTextHeads = 8;

    private const string CustomBlockWhy = "custom attention blocks are not implemented by CoCa.MLNet.";

    public static CoCaModelConfig Parse(string json, string name, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new CoCaConfigException($"open_clip config '{source}' is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = new JsonConfigSection(doc.RootElement, "", source);
            // open_clip_config.json wraps the model config; a bare model_configs/*.json does not.
            var model = root.Section("model_cfg") ?? root;
            var preprocess = root.Section("preprocess_cfg") ?? model.Section("preprocess_cfg");

            if (!model.Has("embed_dim"))
                throw model.Error("embed_dim", "is missing; every open_clip model config names its embedding width.");
            int embedDim = model.PositiveInt("embed_dim", 0);
            if (model.Section("multimodal_cfg") is not { } multimodalSection)
                throw model.Error("multimodal_cfg", "is missing: this is not an open_clip CoCa config (CoCa configs have vision_cfg, text_cfg and multimodal_cfg).");

            var vision = ParseVision(model.Section("vision_cfg") ?? Empty("vision_cfg", source), embedDim);
            var text = ParseText(model.Section("text_cfg") ?? Empty("text_cfg", source));
            var multimodal = ParseMultimodal(multimodalSection);
            var pre = ParsePreprocess(preprocess, vision.ImageSize);

            return new CoCaModelConfig
            {
                Name = name,
                EmbedDim = embedDim,
                Vision = vision,
                Text = text,
                Multimodal = multimodal,
                Preprocess = pre,
                QuickGelu = model.Bool("quick_gelu", false),
            };
        }
    }

    private static JsonConfigSection Empty(string path, string source)
    {
        using var doc = JsonDocument.Parse("{}");
        return new JsonConfigSection(doc.RootElement.Clone(), path, source);
    }

    private static VisionConfig ParseVision(JsonConfigSection v, int embedDim)
    {
        if (v.Find("layers") is { ValueKind: JsonValueKind.Array })
            throw v.Error("layers", "is a list, which makes open_clip build a ModifiedResNet; CoCa.MLNet supports only ViT vision towers.");
        v.RequireUnset("timm_model_name", "timm vision towers are not supported; CoCa.MLNet implements open_clip's own VisionTransformer.");

        var pool = v.Find("attentional_pool");
        if (pool is null or { ValueKind: JsonValueKind.False })
            throw v.Error("attentional_pool", $"is {(pool is null ? "absent (open_clip's default is false)" : "false")}; CoCa.MLNet needs open_clip's CoCa attentional pooler (attentional_pool: true).");
        if (pool.Value.ValueKind == JsonValueKind.String)
            throw v.Error("attentional_pool", $"is {pool.Value.GetRawText()}; the \"parallel\"/\"cascade\" poolers are not supported, only the original open_clip CoCa pooler (attentional_pool: true).");
        if (pool.Value.ValueKind != JsonValueKind.True)
            throw v.Error("attentional_pool", $"must be true, got {pool.Value.GetRawText()}.");

        var poolType = v.String("pool_type", "tok");
        if (poolType != "tok")
            throw v.Error("pool_type", $"is \"{poolType}\"; with the attentional pooler CoCa.MLNet supports only \"tok\" (query 0 is the embedding, queries 1.. the tokens).");
        v.RequireUnset("ls_init_value", "layer scale (ls_1/ls_2) is not implemented by CoCa.MLNet.");
        v.RequireUnset("no_ln_pre", "CoCa.MLNet always applies ln_pre.");
        var posEmbed = v.String("pos_embed_type", "learnable");
        if (posEmbed != "learnable")
            throw v.Error("pos_embed_type", $"is \"{posEmbed}\"; only learnable position embeddings are supported.");
        RequireStandardBlocks(v);
        if (v.Find("block_type") is { } bt && bt.ValueKind == JsonValueKind.String && bt.GetString() is not ("default" or ""))
            throw v.Error("block_type", $"is {bt.GetRawText()}; {CustomBlockWhy}");

        var config = new VisionConfig
        {
            ImageSize = v.SquareSize("image_size", DefaultImageSize),
            Layers = v.PositiveInt("layers", DefaultLayers),
            Width = v.PositiveInt("width", DefaultVisionWidth),
            PatchSize = v.SquareSize("patch_size", DefaultPatchSize),
            HeadWidth = v.PositiveInt("head_width", DefaultHeadWidth),
            MlpRatio = v.PositiveDouble("mlp_ratio", DefaultMlpRatio),
            AttentionalPool = true,
            AttnPoolerQueries = v.PositiveInt("attn_pooler_queries", DefaultPoolerQueries),
            AttnPoolerHeads = v.PositiveInt("attn_pooler_heads", DefaultPoolerHeads),
            OutputTokens = v.Bool("output_tokens", false),
        };
        if (config.Width % config.HeadWidth != 0)
            throw v.Error("width", $"{config.Width} is not a multiple of head_width {config.HeadWidth} (heads = width / head_width).");
        if (config.ImageSize < config.PatchSize)
            throw v.Error("image_size", $"{config.ImageSize} is smaller than patch_size {config.PatchSize}.");
        if (embedDim % config.AttnPoolerHeads != 0)
            throw v.Error("attn_pooler_heads", $"{config.AttnPoolerHeads} does not divide embed_dim {embedDim} (the pooler attends in embed_dim).");
        return config;
    }

    private static TextConfig ParseText(JsonConfigSection t)
    {
        t.RequireUnset("hf_model_name", "Hugging Face text towers are not supported; CoCa.MLNet implements open_clip's own TextTransformer.");
        if (!t.Bool("embed_cls", false))
            throw t.Error("embed_cls", $"is {(t.Has("embed_cls") ? "false" : "absent (open_clip's default is false)")}; CoCa.MLNet's text tower needs the appended CLS embedding (embed_cls: true) used by every open_clip CoCa.");
        t.RequireUnset("ls_init_value", "layer scale (ls_1/ls_2) is not implemented by CoCa.MLNet.");
        t.RequireUnset("no_causal_mask", "CoCa's text tower is causal.");
        t.RequireUnset("proj_bias", "the text projection has no bias in CoCa.MLNet.");
        var projType = t.String("proj_type", "linear");
        if (projType != "linear")
            throw t.Error("proj_type", $"is \"{projType}\"; only the plain text_projection matrix (\"linear\") is supported.");
        RequireStandardBlocks(t);

        var config = new TextConfig
        {
            ContextLength = t.PositiveInt("context_length", DefaultContextLength),
            VocabSize = t.PositiveInt("vocab_size", DefaultVocabSize),
            Width = t.PositiveInt("width", DefaultTextWidth),
            Heads = t.PositiveInt("heads", DefaultTextHeads),
            Layers = t.PositiveInt("layers", DefaultLayers),
            MlpRatio = t.PositiveDouble("mlp_ratio", DefaultMlpRatio),
            EmbedCls = true,
            PadId = t.NonNegativeInt("pad_id", 0),
        };
        if (config.Width % config.Heads != 0)
            throw t.Error("heads", $"{config.Heads} does not divide width {config.Width}.");
        return config;
    }

    private static MultimodalConfig ParseMultimodal(JsonConfigSection m) => new()
    {
        ContextLength = m.PositiveInt("context_length", DefaultContextLength),
        VocabSize = m.PositiveInt("vocab_size", DefaultVocabSize),
        Width = m.PositiveInt("width", DefaultTextWidth),
        Heads = m.PositiveInt("heads", DefaultTextHeads),
        Layers = m.PositiveInt("layers", DefaultLayers),
    };

    private static PreprocessConfig ParsePreprocess(JsonConfigSection? p, int imageSize)
    {
        if (p is not { } s) return new PreprocessConfig { ImageSize = imageSize };
        var config = new PreprocessConfig
        {
            Mean = s.Channels("mean", PreprocessConfig.OpenAIMean),
            Std = s.Channels("std", PreprocessConfig.OpenAIStd),
            Interpolation = s.String("interpolation", "bicubic"),
            ResizeMode = s.String("resize_mode", "shortest"),
            ImageSize = s.SquareSize("size", imageSize),
        };
        if (config.Std.Any(x => !(x > 0)))
            throw s.Error("std", $"must be positive, got [{string.Join(", ", config.Std)}].");
        return config;
    }

    /// <summary>open_clip's custom-block switches (CLIPVisionCfg/CLIPTextCfg); any of them set changes the block's maths.</summary>
    /// <summary>Both towers are plain open_clip transformers: no custom activation, norm or block options.</summary>
    private static void RequireStandardBlocks(JsonConfigSection section)
    {
        section.RequireUnset("act_kwargs", "custom activation arguments are not supported.");
        section.RequireUnset("norm_kwargs", "custom LayerNorm arguments are not supported.");
        foreach (var flag in CustomBlockFlags) section.RequireUnset(flag, CustomBlockWhy);
    }

    private static readonly string[] CustomBlockFlags =
        ["qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner", "scale_attn", "scale_fc"];
}

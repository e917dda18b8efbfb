using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Tests.Configuration;

public sealed class CoCaConfigsTests
{
    private const string MinimalCoCa = """
        {"embed_dim": 64,
         "vision_cfg": {"attentional_pool": true},
         "text_cfg": {"embed_cls": true},
         "multimodal_cfg": {}}
        """;

    private static CoCaConfigException Rejects(string json) =>
        Assert.Throws<CoCaConfigException>(() => CoCaConfigs.Parse(json, "bad", "bad.json"));

    [Fact]
    public void NamesListTheBuiltIns()
    {
        Assert.Equal(["coca_ViT-B-32", "coca_ViT-L-14"], CoCaConfigs.Names);
    }

    [Fact]
    public void B32HasOpenClipsNumbers()
    {
        var c = CoCaConfigs.Get("coca_ViT-B-32");

        Assert.Equal("coca_ViT-B-32", c.Name);
        Assert.Equal(512, c.EmbedDim);
        Assert.Equal((224, 12, 768, 32), (c.Vision.ImageSize, c.Vision.Layers, c.Vision.Width, c.Vision.PatchSize));
        Assert.Equal((64, 12, 3072), (c.Vision.HeadWidth, c.Vision.Heads, c.Vision.MlpWidth));
        Assert.Equal((7, 50), (c.Vision.GridSize, c.Vision.TokenCount));
        Assert.True(c.Vision.AttentionalPool);
        Assert.True(c.Vision.OutputTokens);
        Assert.Equal((256, 8), (c.Vision.AttnPoolerQueries, c.Vision.AttnPoolerHeads));
        Assert.Equal((76, 49408, 512, 8, 12, 2048), (c.Text.ContextLength, c.Text.VocabSize, c.Text.Width, c.Text.Heads, c.Text.Layers, c.Text.MlpWidth));
        Assert.True(c.Text.EmbedCls);
        Assert.Equal(0, c.Text.PadId);
        Assert.Equal((76, 49408, 512, 8, 12), (c.Multimodal.ContextLength, c.Multimodal.VocabSize, c.Multimodal.Width, c.Multimodal.Heads, c.Multimodal.Layers));
        Assert.False(c.QuickGelu);
        AssertOpenAIPreprocessing(c.Preprocess, 224);
    }

    [Fact]
    public void L14HasOpenClipsNumbers()
    {
        var c = CoCaConfigs.Get("coca_ViT-L-14");

        Assert.Equal(768, c.EmbedDim);
        Assert.Equal((224, 24, 1024, 14), (c.Vision.ImageSize, c.Vision.Layers, c.Vision.Width, c.Vision.PatchSize));
        Assert.Equal((64, 16, 4096), (c.Vision.HeadWidth, c.Vision.Heads, c.Vision.MlpWidth));
        Assert.Equal((16, 257), (c.Vision.GridSize, c.Vision.TokenCount));
        Assert.Equal((256, 8), (c.Vision.AttnPoolerQueries, c.Vision.AttnPoolerHeads));
        Assert.Equal((76, 49408, 768, 12, 12, 3072), (c.Text.ContextLength, c.Text.VocabSize, c.Text.Width, c.Text.Heads, c.Text.Layers, c.Text.MlpWidth));
        Assert.Equal((76, 768, 12, 12), (c.Multimodal.ContextLength, c.Multimodal.Width, c.Multimodal.Heads, c.Multimodal.Layers));
        Assert.False(c.QuickGelu);
        AssertOpenAIPreprocessing(c.Preprocess, 224);
    }

    private static void AssertOpenAIPreprocessing(PreprocessConfig p, int size)
    {
        Assert.Equal([0.48145466f, 0.4578275f, 0.40821073f], p.Mean);
        Assert.Equal([0.26862954f, 0.26130258f, 0.27577711f], p.Std);
        Assert.Equal("bicubic", p.Interpolation);
        Assert.Equal("shortest", p.ResizeMode);
        Assert.Equal(size, p.ImageSize);
    }

    [Fact]
    public void GetIsCaseInsensitiveAndUnknownNamesListTheKnownOnes()
    {
        Assert.Equal(768, CoCaConfigs.Get("COCA_vit-l-14").EmbedDim);

        var e = Assert.Throws<ArgumentException>(() => CoCaConfigs.Get("coca_ViT-H-14"));

        Assert.Contains("'coca_ViT-H-14'", e.Message);
        Assert.Contains("coca_ViT-B-32", e.Message);
        Assert.Contains("coca_ViT-L-14", e.Message);
    }

    [Fact]
    public void BareModelConfigGetsOpenClipsDefaults()
    {
        var c = CoCaConfigs.Parse(MinimalCoCa, "minimal");

        Assert.Equal(64, c.EmbedDim);
        // CLIPVisionCfg defaults
        Assert.Equal((224, 12, 768, 16, 64, 4.0), (c.Vision.ImageSize, c.Vision.Layers, c.Vision.Width, c.Vision.PatchSize, c.Vision.HeadWidth, c.Vision.MlpRatio));
        Assert.Equal((256, 8), (c.Vision.AttnPoolerQueries, c.Vision.AttnPoolerHeads));
        Assert.False(c.Vision.OutputTokens);
        // CLIPTextCfg / MultimodalCfg defaults
        Assert.Equal((77, 49408, 512, 8, 12, 4.0), (c.Text.ContextLength, c.Text.VocabSize, c.Text.Width, c.Text.Heads, c.Text.Layers, c.Text.MlpRatio));
        Assert.Equal((77, 512, 8, 12), (c.Multimodal.ContextLength, c.Multimodal.Width, c.Multimodal.Heads, c.Multimodal.Layers));
        AssertOpenAIPreprocessing(c.Preprocess, 224);
    }

    [FixtureFact]
    public void OpenClipConfigJsonFromTheHubIsParsed()
    {
        var c = CoCaConfigs.FromOpenClipConfigFile(Fixtures.Tiny("open_clip_config.json"));

        Assert.Equal("open_clip_coca_tiny", c.Name);
        Assert.Equal(48, c.EmbedDim);
        Assert.Equal((64, 2, 64, 16), (c.Vision.ImageSize, c.Vision.Layers, c.Vision.Width, c.Vision.PatchSize));
        Assert.Equal((8, 4), (c.Vision.AttnPoolerQueries, c.Vision.AttnPoolerHeads));
        Assert.Equal((76, 16, 2, 2), (c.Text.ContextLength, c.Text.Width, c.Text.Heads, c.Text.Layers));
        Assert.Equal((16, 2, 2), (c.Multimodal.Width, c.Multimodal.Heads, c.Multimodal.Layers));
        AssertOpenAIPreprocessing(c.Preprocess, 64);
    }

    [Fact]
    public void PreprocessCfgOverridesAndQuickGeluIsRecorded()
    {
        var json = """
            {"model_cfg": {"embed_dim": 64, "quick_gelu": true, "vision_cfg": {"attentional_pool": true, "image_size": [256, 256]},
                           "text_cfg": {"embed_cls": true}, "multimodal_cfg": {}},
             "preprocess_cfg": {"size": 240, "mean": 0.5, "std": [0.1, 0.2, 0.3], "interpolation": "bilinear", "resize_mode": "squash"}}
            """;

        var c = CoCaConfigs.Parse(json, "custom");

        Assert.True(c.QuickGelu);
        Assert.Equal(256, c.Vision.ImageSize);
        Assert.Equal(240, c.Preprocess.ImageSize);
        Assert.Equal([0.5f, 0.5f, 0.5f], c.Preprocess.Mean);
        Assert.Equal([0.1f, 0.2f, 0.3f], c.Preprocess.Std);
        Assert.Equal("bilinear", c.Preprocess.Interpolation);
        Assert.Equal("squash", c.Preprocess.ResizeMode);
    }

    [Fact]
    public void ConfigFileNameBecomesTheName()
    {
        var path = Path.Combine(Path.GetTempPath(), $"coca_custom_{Guid.NewGuid():N}.json");
        File.WriteAllText(path, MinimalCoCa);
        try
        {
            Assert.Equal(Path.GetFileNameWithoutExtension(path), CoCaConfigs.FromOpenClipConfigFile(path).Name);
            Assert.Equal("mine", CoCaConfigs.FromOpenClipConfigFile(path, "mine").Name);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingConfigFileThrowsFileNotFound()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "open_clip_config.json");
        var e = Assert.Throws<FileNotFoundException>(() => CoCaConfigs.FromOpenClipConfigFile(path));
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData("""{"attentional_pool": false}""", "vision_cfg.attentional_pool", "attentional_pool: true")]
    [InlineData("""{}""", "vision_cfg.attentional_pool", "absent")]
    [InlineData("""{"attentional_pool": "parallel"}""", "vision_cfg.attentional_pool", "\"parallel\"")]
    [InlineData("""{"attentional_pool": "cascade"}""", "vision_cfg.attentional_pool", "\"cascade\"")]
    [InlineData("""{"attentional_pool": true, "pool_type": "avg"}""", "vision_cfg.pool_type", "\"avg\"")]
    [InlineData("""{"attentional_pool": true, "layers": [3, 4, 6, 3]}""", "vision_cfg.layers", "ModifiedResNet")]
    [InlineData("""{"attentional_pool": true, "timm_model_name": "vit_base_patch16_224"}""", "vision_cfg.timm_model_name", "timm")]
    [InlineData("""{"attentional_pool": true, "ls_init_value": 0.1}""", "vision_cfg.ls_init_value", "layer scale")]
    [InlineData("""{"attentional_pool": true, "no_ln_pre": true}""", "vision_cfg.no_ln_pre", "ln_pre")]
    [InlineData("""{"attentional_pool": true, "image_size": [224, 256]}""", "vision_cfg.image_size", "square")]
    [InlineData("""{"attentional_pool": true, "width": "wide"}""", "vision_cfg.width", "positive integer")]
    [InlineData("""{"attentional_pool": true, "width": 100}""", "vision_cfg.width", "head_width")]
    [InlineData("""{"attentional_pool": true, "qk_norm": true}""", "vision_cfg.qk_norm", "custom attention")]
    public void UnsupportedVisionSettingsAreRejected(string visionCfg, string field, string why)
    {
        var e = Rejects($$$"""{"embed_dim": 64, "vision_cfg": {{{visionCfg}}}, "text_cfg": {"embed_cls": true}, "multimodal_cfg": {}}""");

        Assert.Contains("bad.json", e.Message);
        Assert.Contains(field, e.Message);
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [InlineData("""{"embed_cls": false}""", "text_cfg.embed_cls")]
    [InlineData("""{}""", "text_cfg.embed_cls")]
    [InlineData("""{"embed_cls": true, "hf_model_name": "roberta-base"}""", "text_cfg.hf_model_name")]
    [InlineData("""{"embed_cls": true, "proj_bias": true}""", "text_cfg.proj_bias")]
    [InlineData("""{"embed_cls": true, "no_causal_mask": true}""", "text_cfg.no_causal_mask")]
    [InlineData("""{"embed_cls": true, "width": 100, "heads": 8}""", "text_cfg.heads")]
    public void UnsupportedTextSettingsAreRejected(string textCfg, string field)
    {
        var e = Rejects($$$"""{"embed_dim": 64, "vision_cfg": {"attentional_pool": true}, "text_cfg": {{{textCfg}}}, "multimodal_cfg": {}}""");

        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void NonCoCaAndMalformedConfigsAreRejected()
    {
        Assert.Contains("multimodal_cfg", Rejects("""{"embed_dim": 512, "vision_cfg": {"attentional_pool": true}, "text_cfg": {"embed_cls": true}}""").Message);
        Assert.Contains("embed_dim", Rejects("""{"vision_cfg": {}, "multimodal_cfg": {}}""").Message);
        Assert.Contains("not valid JSON", Rejects("""{"embed_dim": 512,""").Message);
        Assert.Contains("pooler", Rejects("""{"embed_dim": 60, "vision_cfg": {"attentional_pool": true}, "text_cfg": {"embed_cls": true}, "multimodal_cfg": {}}""").Message);
    }
}

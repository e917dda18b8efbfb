using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Tests.Checkpoints;

/// <summary>The tiny CoCa that open_clip itself saved, as torch.save .bin and as .safetensors.</summary>
public sealed class FixtureCheckpointTests
{
    private static readonly Lazy<StateDict> Bin = new(() => TorchCheckpointReader.Read(Fixtures.Tiny("open_clip_pytorch_model.bin")));
    private static readonly Lazy<StateDict> Safetensors = new(() => SafetensorsReader.Read(Fixtures.Tiny("open_clip_model.safetensors")));

    [FixtureFact]
    public void BinAndSafetensorsHoldIdenticalTensors()
    {
        var bin = Bin.Value;
        var st = Safetensors.Value;

        Assert.Equal(st.Keys.Order(StringComparer.Ordinal), bin.Keys.Order(StringComparer.Ordinal));
        Assert.True(bin.Count > 100, $"only {bin.Count} tensors");
        foreach (var (name, expected) in st)
        {
            var actual = bin[name];
            Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{name}: {actual.ShapeText} vs {expected.ShapeText}");
            Assert.True(expected.Data.AsSpan().SequenceEqual(actual.Data), $"{name}: values differ");
        }
    }

    [FixtureFact]
    public void BinHasOpenClipsKeysAndShapes()
    {
        var sd = Bin.Value;

        Assert.True(sd["visual.conv1.weight"].HasShape(64, 3, 16, 16));
        Assert.True(sd["visual.positional_embedding"].HasShape(17, 64));
        Assert.True(sd["visual.attn_pool.query"].HasShape(8, 48));
        Assert.True(sd["visual.attn_pool.attn.k_proj_weight"].HasShape(48, 64));
        Assert.True(sd["text.positional_embedding"].HasShape(77, 16));
        Assert.True(sd["text.token_embedding.weight"].HasShape(49408, 16));
        Assert.Empty(sd["logit_scale"].Shape);
        Assert.Equal(CheckpointDType.Float32, sd["visual.proj"].SourceType);
        Assert.Contains(sd.Keys, k => k.StartsWith("text_decoder.", StringComparison.Ordinal));
    }

    [FixtureFact]
    public void FixtureFolderLoadsWithItsConfig()
    {
        var loaded = CheckpointLoader.Load(Fixtures.TinyCoCa);

        Assert.Equal(Path.Combine(Path.GetFullPath(Fixtures.TinyCoCa), "open_clip_model.safetensors"), loaded.WeightsPath);
        Assert.Equal(Path.Combine(Path.GetFullPath(Fixtures.TinyCoCa), "open_clip_config.json"), loaded.ConfigPath);
        var cfg = Assert.IsType<CoCaModelConfig>(loaded.Config);
        Assert.Equal("open_clip_coca_tiny", cfg.Name);
        Assert.Equal(48, cfg.EmbedDim);
        Assert.Equal(64, cfg.Vision.ImageSize);
        Assert.Equal(2, cfg.Vision.Layers);
        Assert.Equal(64, cfg.Vision.Width);
        Assert.Equal(16, cfg.Vision.PatchSize);
        Assert.Equal(1, cfg.Vision.Heads); // width 64 / default head_width 64
        Assert.Equal(256, cfg.Vision.MlpWidth);
        Assert.Equal(8, cfg.Vision.AttnPoolerQueries);
        Assert.Equal(4, cfg.Vision.AttnPoolerHeads);
        Assert.Equal(76, cfg.Text.ContextLength);
        Assert.Equal(16, cfg.Text.Width);
        Assert.Equal(2, cfg.Text.Heads);
        Assert.Equal(2, cfg.Text.Layers);
        Assert.Equal(64, cfg.Preprocess.ImageSize);
        Assert.Equal("bicubic", cfg.Preprocess.Interpolation);
        Assert.Equal(PreprocessConfig.OpenAIMean, cfg.Preprocess.Mean);

        CheckpointValidator.Validate(cfg, loaded.Weights);
    }

    [FixtureFact]
    public void FolderWithOnlyTheTorchFileLoadsIt()
    {
        using var dir = new TempDirectory();
        File.Copy(Fixtures.Tiny("open_clip_pytorch_model.bin"), dir.File("open_clip_pytorch_model.bin"));
        File.Copy(Fixtures.Tiny("open_clip_config.json"), dir.File("open_clip_config.json"));

        var loaded = CheckpointLoader.Load(dir.Path, name => name.StartsWith("visual.", StringComparison.Ordinal));

        Assert.EndsWith("open_clip_pytorch_model.bin", loaded.WeightsPath);
        Assert.NotNull(loaded.Config);
        Assert.All(loaded.Weights.Keys, k => Assert.StartsWith("visual.", k));
        Assert.Equal(Safetensors.Value["visual.proj"].Data, loaded.Weights["visual.proj"].Data);
        CheckpointValidator.ValidateVision(loaded.Config!, loaded.Weights);
    }

    [FixtureFact]
    public void RandomCheckpointHasExactlyTheFixturesKeysAndShapes()
    {
        // The fixture was made by open_clip: this pins our layout (incl. the pooler's separate q/k/v weights) to it.
        var cfg = CoCaConfigs.FromOpenClipConfigFile(Fixtures.Tiny("open_clip_config.json"));
        var expected = Safetensors.Value.Where(kv => !kv.Key.StartsWith("text_decoder.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.ShapeText);

        var actual = RandomCoCaCheckpoint.Shapes(cfg).ToDictionary(s => s.Name, s => s.ShapeText);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected) Assert.Equal((name, shape), (name, actual[name]));
    }

    [FixtureFact]
    public void FixtureWeightsWithTheB32ConfigAreRejectedNamingTheKeyShapesAndConfig()
    {
        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateVision(CoCaConfigs.Get("coca_ViT-B-32"), Safetensors.Value));

        Assert.Contains("belongs to another config", e.Message);
        Assert.Contains("'visual.conv1.weight'", e.Message);
        Assert.Contains("[64, 3, 16, 16]", e.Message);
        Assert.Contains("[768, 3, 32, 32]", e.Message);
        Assert.Contains("'coca_ViT-B-32'", e.Message);
    }

    [FixtureFact]
    public void FixtureTextWeightsWithTheB32ConfigAreRejected()
    {
        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateText(CoCaConfigs.Get("coca_ViT-B-32"), Bin.Value));

        Assert.Contains("'text.token_embedding.weight'", e.Message);
        Assert.Contains("[49408, 16]", e.Message);
        Assert.Contains("[49408, 512]", e.Message);
    }
}

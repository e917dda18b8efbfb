using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static CoCa.MLNet.Tests.Shared.CaptionFixture;

namespace CoCa.MLNet.Training.Tests.Checkpoints;

/// <summary>State-dict names as the contract: load, save in the hub layout, convert, initialise from a config alone.</summary>
public sealed class CoCaCheckpointFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "coca-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [FixtureFact]
    public void ParameterNames_AreExactlyTheCheckpointsKeys()
    {
        using var model = new CoCaModel(CoCaConfigs.FromOpenClipConfigFile(File(Folder, "open_clip_config.json")));
        var checkpoint = SafetensorsReader.Read(File(Folder, "open_clip_model.safetensors"));
        Assert.Equal(checkpoint.Keys.Order(StringComparer.Ordinal), model.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal));
    }

    [FixtureFact]
    public void Save_WritesTheHubLayout_ThatLoadsBackAndConverts()
    {
        using var model = Load(Folder);
        CoCaCheckpointFolder.Save(model, _dir);
        Assert.True(System.IO.File.Exists(Path.Combine(_dir, "open_clip_config.json")));
        Assert.True(System.IO.File.Exists(Path.Combine(_dir, "open_clip_model.safetensors")));

        var original = SafetensorsReader.Read(File(Folder, "open_clip_model.safetensors"));
        var written = SafetensorsReader.Read(Path.Combine(_dir, "open_clip_model.safetensors"));
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        foreach (var key in original.Keys)
        {
            Assert.Equal(original[key].Shape, written[key].Shape);
            Assert.True(original[key].Data.AsSpan().SequenceEqual(written[key].Data), $"{key} changed in the round trip");
        }
        Assert.Equal(OpenClipConfigWriter.ToJson(CoCaConfigs.FromOpenClipConfigFile(File(Folder, "open_clip_config.json"))),
            OpenClipConfigWriter.ToJson(CoCaConfigs.FromOpenClipConfigFile(Path.Combine(_dir, "open_clip_config.json"))));

        using var reloaded = CoCaCheckpointFolder.Load(_dir);
        var converted = CoCaConverter.Convert(_dir, Path.Combine(_dir, "converted"));
        Assert.True(System.IO.File.Exists(Path.Combine(_dir, "converted", "vision.onnx")));
        Assert.True(System.IO.File.Exists(Path.Combine(_dir, "converted", "text.onnx")));
    }

    [Fact]
    public void ConfigOnlyFolder_StartsFromOpenClipsInitialisation_Seeded()
    {
        var config = TinyConfig();
        Directory.CreateDirectory(_dir);
        OpenClipConfigWriter.Write(config, _dir);
        Assert.True(CoCaCheckpointFolder.IsConfigOnly(_dir));
        using var a = CoCaCheckpointFolder.Load(_dir, seed: 3);
        using var b = CoCaCheckpointFolder.Load(_dir, seed: 3);
        using var c = CoCaCheckpointFolder.Load(_dir, seed: 4);
        var pa = a.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pc = c.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.True(pa["visual.conv1.weight"].eq(pb["visual.conv1.weight"]).all().item<bool>());
        Assert.False(pa["visual.conv1.weight"].eq(pc["visual.conv1.weight"]).all().item<bool>());
        // open_clip's scales: token embedding std 0.02, pooler queries std 1, norms 1/0, logit_scale ln(1/0.07).
        Assert.InRange(pa["text.token_embedding.weight"].std().item<float>(), 0.019, 0.021);
        Assert.InRange(pa["visual.attn_pool.query"].std().item<float>(), 0.7, 1.3);
        Assert.Equal(1f, pa["text.ln_final.weight"].mean().item<float>());
        Assert.Equal((float)Math.Log(1 / 0.07), pa["logit_scale"].item<float>(), 5);
        Assert.Equal(0f, pa["text.transformer.resblocks.0.attn.in_proj_bias"].abs().max().item<float>());
    }

    [Fact]
    public void Load_FolderWithoutConfig_SaysWhatIsExpected()
    {
        Directory.CreateDirectory(_dir);
        var ex = Assert.Throws<FileNotFoundException>(() => CoCaCheckpointFolder.Load(_dir));
        Assert.Contains("open_clip_config.json", ex.Message);
        Assert.Contains(_dir, ex.Message);
    }

    [Fact]
    public void PackedPoolerProjection_WhenEmbedDimEqualsVisionWidth()
    {
        var config = TinyConfig() with { EmbedDim = 48 };
        using var model = new CoCaModel(config);
        var names = model.named_parameters().Select(p => p.name).Where(n => n.StartsWith("visual.attn_pool.attn.", StringComparison.Ordinal)).ToList();
        var expected = CoCaStateDictLayout.Vision(config).Select(s => s.Name).Where(n => n.StartsWith("visual.attn_pool.attn.", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Contains("visual.attn_pool.attn.in_proj_weight", names);
    }

    /// <summary>A tiny CoCa that can caption (embed_dim = text width = multimodal width), small vocabulary.</summary>
    internal static CoCaModelConfig TinyConfig() => new()
    {
        Name = "tiny",
        EmbedDim = 32,
        Vision = new VisionConfig { ImageSize = 32, Layers = 1, Width = 48, PatchSize = 8, HeadWidth = 16, AttnPoolerQueries = 5, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 12, VocabSize = 500, Width = 32, Heads = 2, Layers = 1 },
        Multimodal = new MultimodalConfig { ContextLength = 12, VocabSize = 500, Width = 32, Heads = 2, Layers = 1 },
        Preprocess = new PreprocessConfig { ImageSize = 32 },
    };
}

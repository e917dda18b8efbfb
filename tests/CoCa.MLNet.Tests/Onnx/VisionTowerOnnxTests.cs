using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Onnx;

public class VisionTowerOnnxTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <summary>The fixture's coca_tiny (open_clip_config.json written out by hand).</summary>
    internal static CoCaModelConfig TinyConfig => new()
    {
        Name = "coca_tiny",
        EmbedDim = 48,
        Vision = new VisionConfig { ImageSize = 64, Layers = 2, Width = 64, PatchSize = 16, AttnPoolerQueries = 8, AttnPoolerHeads = 4 },
        Text = new TextConfig { ContextLength = 76, VocabSize = 49408, Width = 16, Heads = 2, Layers = 2 },
        Multimodal = new MultimodalConfig { ContextLength = 76, VocabSize = 49408, Width = 16, Heads = 2, Layers = 2 },
        Preprocess = new PreprocessConfig { ImageSize = 64 },
    };

    private static readonly Lazy<StateDict> TinyWeights = new(() => SafetensorsReader.Read(Fixtures.Tiny("open_clip_model.safetensors")));
    private static readonly Lazy<byte[]> TinyModel = new(() => VisionTowerOnnx.Build(TinyConfig, TinyWeights.Value));

    [FixtureFact]
    public void OnnxModelReproducesOpenClipOnTheFixture()
    {
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        Assert.Equal(new long[] { 6, 3, 64, 64 }, pixels.Shape);
        using var session = new OrtSession(TinyModel.Value);
        var outputs = session.Run(VisionTowerOnnx.PixelValues, pixels.Data, pixels.Shape,
            VisionTowerOnnx.Tokens, VisionTowerOnnx.ImageEmbedding, VisionTowerOnnx.CaptionTokens);

        foreach (var (name, file, shape) in new[]
        {
            (VisionTowerOnnx.Tokens, "ref_tokens.npy", new long[] { 6, 17, 64 }),
            (VisionTowerOnnx.ImageEmbedding, "ref_image_embedding.npy", new long[] { 6, 48 }),
            (VisionTowerOnnx.CaptionTokens, "ref_caption_tokens.npy", new long[] { 6, 7, 48 }),
        })
        {
            var expected = Npy.ReadFloat32(Fixtures.Tiny(file));
            Assert.Equal(shape, expected.Shape);
            Assert.Equal(shape, outputs[name].Shape);
            int rows = (int)(expected.Data.Length / shape[^1]);
            double err = RowError.Max(outputs[name].Data, expected.Data, rows);
            output.WriteLine($"ONNX vs open_clip {name}: max row relative error {err:E2}");
            Fixtures.AssertRowsClose(outputs[name].Data, expected.Data, rows, Tolerance, name);
        }
    }

    [FixtureFact]
    public void ReferenceForwardPassReproducesOpenClipOnTheFixture()
    {
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        var result = new ReferenceVisionTower(TinyConfig, TinyWeights.Value).Forward(pixels.Data, 6);
        foreach (var (actual, file, dim) in new[]
        {
            (result.Tokens, "ref_tokens.npy", 64), (result.Embedding, "ref_image_embedding.npy", 48), (result.CaptionTokens, "ref_caption_tokens.npy", 48),
        })
        {
            var expected = Npy.ReadFloat32(Fixtures.Tiny(file)).Data;
            double err = RowError.Max(actual, expected, expected.Length / dim);
            output.WriteLine($"float64 reference vs open_clip {file}: max row relative error {err:E2}");
            Assert.True(err <= Tolerance, $"{file}: {err:E3}");
        }
    }

    [FixtureFact]
    public void BatchOfOneGivesTheSameNumbersAsBatchOfSix()
    {
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        using var session = new OrtSession(TinyModel.Value);
        string[] names = [VisionTowerOnnx.Tokens, VisionTowerOnnx.ImageEmbedding, VisionTowerOnnx.CaptionTokens];
        var all = session.Run(VisionTowerOnnx.PixelValues, pixels.Data, [6, 3, 64, 64], names);
        int per = 3 * 64 * 64;
        double worst = 0;
        for (int b = 0; b < 6; b++)
        {
            var one = session.Run(VisionTowerOnnx.PixelValues, pixels.Data.AsSpan(b * per, per).ToArray(), [1, 3, 64, 64], names);
            foreach (var name in names)
            {
                var single = one[name];
                Assert.Equal(1, single.Shape[0]);
                Assert.Equal(all[name].Shape[1..], single.Shape[1..]);
                int n = single.Data.Length;
                var slice = all[name].Data.AsSpan(b * n, n);
                worst = Math.Max(worst, RowError.Max(single.Data, slice, 1));
            }
        }
        output.WriteLine($"batch 1 vs batch 6: max relative difference {worst:E2}");
        Assert.True(worst <= 1e-6, $"batch 1 and batch 6 differ by {worst:E3}");
    }

    private static readonly Dictionary<string, CoCaModelConfig> Configs = new()
    {
        ["48px/12, w96 h3, 3 layers, pool 5q x 5h, E40"] = Config(48, 12, 96, 32, 3, 40, 5, 5, 4.0),
        ["40px/8, w32 h4, 1 layer, pool 3q x 2h, E24, mlp 2.5"] = Config(40, 8, 32, 8, 1, 24, 3, 2, 2.5),
        ["50px/16 (floored grid 3), w48 h3, 2 layers, pool 2q x 4h, E32"] = Config(50, 16, 48, 16, 2, 32, 2, 4, 4.0),
        ["width = embed_dim (packed pooler in_proj), 32px/8, w24, E24, pool 4q x 3h"] = Config(32, 8, 24, 8, 2, 24, 4, 3, 4.0),
        ["no resblocks, one query (empty caption tokens)"] = Config(16, 8, 16, 16, 0, 8, 1, 1, 4.0),
    };

    public static TheoryData<string> OtherConfigs => new(Configs.Keys);

    private static CoCaModelConfig Config(int image, int patch, int width, int headWidth, int layers, int embed, int queries, int poolHeads, double mlpRatio) => new()
    {
        Name = "random",
        EmbedDim = embed,
        Vision = new VisionConfig
        {
            ImageSize = image, PatchSize = patch, Width = width, HeadWidth = headWidth, Layers = layers, MlpRatio = mlpRatio,
            AttnPoolerQueries = queries, AttnPoolerHeads = poolHeads,
        },
    };

    [Theory]
    [MemberData(nameof(OtherConfigs))]
    public void OnnxModelMatchesTheReferenceForOtherConfigs(string description)
    {
        var config = Configs[description];
        var v = config.Vision;
        var weights = RandomVisionCheckpoint.Create(config, seed: description.Length);
        const int batch = 3;
        var pixels = RandomVisionCheckpoint.Pixels(batch, v.ImageSize, seed: 7);
        using var session = new OrtSession(VisionTowerOnnx.Build(config, weights));
        var outputs = session.Run(VisionTowerOnnx.PixelValues, pixels, [batch, 3, v.ImageSize, v.ImageSize],
            VisionTowerOnnx.Tokens, VisionTowerOnnx.ImageEmbedding, VisionTowerOnnx.CaptionTokens);
        var expected = new ReferenceVisionTower(config, weights).Forward(pixels, batch);

        int grid = v.ImageSize / v.PatchSize, t = 1 + grid * grid;
        Assert.Equal(new long[] { batch, t, v.Width }, outputs[VisionTowerOnnx.Tokens].Shape);
        Assert.Equal(new long[] { batch, config.EmbedDim }, outputs[VisionTowerOnnx.ImageEmbedding].Shape);
        Assert.Equal(new long[] { batch, v.AttnPoolerQueries - 1, config.EmbedDim }, outputs[VisionTowerOnnx.CaptionTokens].Shape);

        double tokens = RowError.Max(outputs[VisionTowerOnnx.Tokens].Data, expected.Tokens, batch * t);
        double embedding = RowError.Max(outputs[VisionTowerOnnx.ImageEmbedding].Data, expected.Embedding, batch);
        double captions = v.AttnPoolerQueries > 1
            ? RowError.Max(outputs[VisionTowerOnnx.CaptionTokens].Data, expected.CaptionTokens, batch * (v.AttnPoolerQueries - 1))
            : 0;
        output.WriteLine($"{description}: tokens {tokens:E2}, image_embedding {embedding:E2}, caption_tokens {captions:E2}");
        Assert.True(tokens <= Tolerance, $"tokens {tokens:E3}");
        Assert.True(embedding <= Tolerance, $"image_embedding {embedding:E3}");
        Assert.True(captions <= Tolerance, $"caption_tokens {captions:E3}");
    }

    private static readonly CoCaModelConfig SmallConfig = Config(32, 16, 32, 16, 2, 24, 3, 2, 4.0);

    private static StateDict SmallWeights(Func<List<CheckpointTensor>, List<CheckpointTensor>> edit) =>
        new(edit(RandomVisionCheckpoint.Tensors(SmallConfig, 1)), "edited.safetensors");

    [Fact]
    public void MissingTensorIsNamedWithItsExpectedShape()
    {
        var weights = SmallWeights(l => l.Where(t => t.Name != "visual.attn_pool.ln_k.bias").ToList());
        var e = Assert.Throws<CheckpointException>(() => VisionTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'visual.attn_pool.ln_k.bias'", e.Message);
        Assert.Contains("[32]", e.Message);
    }

    [Fact]
    public void MisshapedTensorIsNamedWithBothShapes()
    {
        var weights = SmallWeights(l => l.Select(t => t.Name == "visual.transformer.resblocks.1.mlp.c_fc.weight"
            ? new CheckpointTensor(t.Name, [128, 31], new float[128 * 31]) : t).ToList());
        var e = Assert.Throws<CheckpointException>(() => VisionTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'visual.transformer.resblocks.1.mlp.c_fc.weight'", e.Message);
        Assert.Contains("[128, 31]", e.Message);
        Assert.Contains("[128, 32]", e.Message);
    }

    [Fact]
    public void ExtraResblockIsNamed()
    {
        // A 3-layer checkpoint given a 2-layer config: resblocks.2 would be silently dropped otherwise.
        var deeper = SmallConfig with { Vision = SmallConfig.Vision with { Layers = 3 } };
        var weights = new StateDict(RandomVisionCheckpoint.Tensors(deeper, 1), "deeper.safetensors");
        var e = Assert.Throws<CheckpointException>(() => VisionTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'visual.transformer.resblocks.2.ln_1.weight'", e.Message);
        Assert.Contains("'visual.transformer.resblocks.2.mlp.c_proj.bias'", e.Message);
        Assert.Contains("12 unexpected", e.Message);
        Assert.DoesNotContain("resblocks.1.", e.Message);
    }

    [Fact]
    public void ExtraStrayVisualTensorIsNamedButOtherTowersAreIgnored()
    {
        var weights = SmallWeights(l => [.. l, new CheckpointTensor("visual.attn_pool.attn.bias_k", [1, 1, 24], new float[24])]);
        var e = Assert.Throws<CheckpointException>(() => VisionTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'visual.attn_pool.attn.bias_k' [1, 1, 24]", e.Message);
        Assert.DoesNotContain("text.", e.Message);
        Assert.DoesNotContain("logit_scale", e.Message);
    }

    [Fact]
    public void UnsupportedConfigsAreRejectedBeforeReadingWeights()
    {
        var weights = RandomVisionCheckpoint.Create(SmallConfig, 1);
        var noPool = SmallConfig with { Vision = SmallConfig.Vision with { AttentionalPool = false } };
        Assert.Contains("attentional_pool", Assert.Throws<ArgumentException>(() => VisionTowerOnnx.Build(noPool, weights)).Message);
        var badHeads = SmallConfig with { Vision = SmallConfig.Vision with { AttnPoolerHeads = 5 } };
        Assert.Contains("attn_pooler_heads = 5", Assert.Throws<ArgumentException>(() => VisionTowerOnnx.Build(badHeads, weights)).Message);
    }

    [Fact]
    public void ModelDeclaresItsSignatureAndCarriesTheConfig()
    {
        var weights = RandomVisionCheckpoint.Create(SmallConfig, 1);
        using var session = new OrtSession(VisionTowerOnnx.Build(SmallConfig, weights));
        var input = session.Session.InputMetadata[VisionTowerOnnx.PixelValues];
        Assert.Equal(new[] { -1, 3, 32, 32 }, input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal(new[] { -1, 5, 32 }, session.Session.OutputMetadata[VisionTowerOnnx.Tokens].Dimensions);
        Assert.Equal(new[] { -1, 24 }, session.Session.OutputMetadata[VisionTowerOnnx.ImageEmbedding].Dimensions);
        Assert.Equal(new[] { -1, 2, 24 }, session.Session.OutputMetadata[VisionTowerOnnx.CaptionTokens].Dimensions);

        var meta = session.Session.ModelMetadata;
        Assert.Equal("CoCa.MLNet", meta.ProducerName);
        Assert.Equal(CoCaOnnxMetadata.VisionKind, meta.CustomMetadataMap[CoCaOnnxMetadata.KindKey]);
        var config = CoCaOnnxMetadata.ParseConfig(meta.CustomMetadataMap[CoCaOnnxMetadata.ConfigKey]);
        Assert.NotNull(config);
        Assert.Equal(SmallConfig.Vision, config!.Vision);
        Assert.Equal(SmallConfig.EmbedDim, config.EmbedDim);
    }

    [Fact]
    public void WriteAndSaveProduceTheSameBytesAsBuild()
    {
        var weights = RandomVisionCheckpoint.Create(SmallConfig, 1);
        var bytes = VisionTowerOnnx.Build(SmallConfig, weights);
        using var stream = new MemoryStream();
        Assert.Equal(bytes.Length, VisionTowerOnnx.Write(SmallConfig, weights, stream));
        Assert.Equal(bytes, stream.ToArray());

        var dir = Directory.CreateTempSubdirectory("coca-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "vision.onnx");
            VisionTowerOnnx.Save(SmallConfig, weights, path);
            Assert.Equal(bytes, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir.FullName));   // no temporary file left behind
        }
        finally { dir.Delete(recursive: true); }
    }
}

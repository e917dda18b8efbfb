using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Demo;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Onnx;

public class TextTowerOnnxTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static readonly Lazy<StateDict> TinyWeights = new(() => SafetensorsReader.Read(Fixtures.Tiny("open_clip_model.safetensors")));
    private static readonly Lazy<byte[]> TinyModel = new(() => TextTowerOnnx.Build(VisionTowerOnnxTests.TinyConfig, TinyWeights.Value));

    [FixtureFact]
    public void OnnxModelReproducesOpenClipOnTheFixture()
    {
        var ids = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
        Assert.Equal(new long[] { 6, 76 }, ids.Shape);
        var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy"));
        Assert.Equal(new long[] { 6, 48 }, expected.Shape);
        using var session = new OrtSession(TinyModel.Value);
        var actual = session.RunInt64(TextTowerOnnx.InputIds, ids.Data, ids.Shape, TextTowerOnnx.TextEmbedding)[TextTowerOnnx.TextEmbedding];
        Assert.Equal(new long[] { 6, 48 }, actual.Shape);
        output.WriteLine($"ONNX vs open_clip text_embedding: max row relative error {RowError.Max(actual.Data, expected.Data, 6):E2}");
        Fixtures.AssertRowsClose(actual.Data, expected.Data, 6, Tolerance, "text_embedding");
    }

    [FixtureFact]
    public void ReferenceForwardPassReproducesOpenClipOnTheFixture()
    {
        var ids = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
        var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy")).Data;
        var actual = new ReferenceTextTower(VisionTowerOnnxTests.TinyConfig, TinyWeights.Value).Forward(ids.Data, 6);
        double err = RowError.Max(actual, expected, 6);
        output.WriteLine($"float64 reference vs open_clip text_embedding: max row relative error {err:E2}");
        Assert.True(err <= Tolerance, $"{err:E3}");
    }

    [FixtureFact]
    public void BatchOfOneGivesTheSameNumbersAsBatchOfSix()
    {
        var ids = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
        using var session = new OrtSession(TinyModel.Value);
        var all = session.RunInt64(TextTowerOnnx.InputIds, ids.Data, [6, 76], TextTowerOnnx.TextEmbedding)[TextTowerOnnx.TextEmbedding].Data;
        double worst = 0;
        for (int b = 0; b < 6; b++)
        {
            var one = session.RunInt64(TextTowerOnnx.InputIds, ids.Data.AsSpan(b * 76, 76).ToArray(), [1, 76], TextTowerOnnx.TextEmbedding)[TextTowerOnnx.TextEmbedding].Data;
            worst = Math.Max(worst, RowError.Max(one, all.AsSpan(b * 48, 48), 1));
        }
        output.WriteLine($"batch 1 vs batch 6: max relative difference {worst:E2}");
        Assert.True(worst <= 1e-6, $"batch 1 and batch 6 differ by {worst:E3}");
    }

    private static CoCaModelConfig Config(int context, int vocab, int width, int heads, int layers, int embed, double mlpRatio = 4.0) => new()
    {
        Name = "random-text",
        EmbedDim = embed,
        Vision = new VisionConfig { ImageSize = 16, PatchSize = 8, Width = 16, HeadWidth = 8, Layers = 0, AttnPoolerQueries = 1, AttnPoolerHeads = 1 },
        Text = new TextConfig { ContextLength = context, VocabSize = vocab, Width = width, Heads = heads, Layers = layers, MlpRatio = mlpRatio },
    };

    private static readonly Dictionary<string, CoCaModelConfig> Configs = new()
    {
        ["ctx 12, vocab 300, w24 h3, 2 layers, E20"] = Config(12, 300, 24, 3, 2, 20),
        ["ctx 5, vocab 50, w16 h1, 1 layer, E8, mlp 2.5"] = Config(5, 50, 16, 1, 1, 8, 2.5),
        ["ctx 9, vocab 64, w32 h8, 3 layers, E40"] = Config(9, 64, 32, 8, 3, 40),
        ["no resblocks, ctx 3"] = Config(3, 20, 8, 2, 0, 6),
    };

    public static TheoryData<string> OtherConfigs => new(Configs.Keys);

    /// <summary>Rows with every amount of padding: full context (cls sees itself), half, one token, and none at all.</summary>
    internal static long[] RandomIds(int context, int vocab, int rows, int seed)
    {
        var rng = new Random(seed);
        var ids = new long[rows * context];
        for (int r = 0; r < rows; r++)
        {
            int valid = (r % 4) switch { 0 => context, 1 => Math.Max(1, context / 2), 2 => 1, _ => 0 };
            for (int i = 0; i < valid; i++) ids[r * context + i] = rng.Next(1, vocab);
        }
        return ids;
    }

    [Theory]
    [MemberData(nameof(OtherConfigs))]
    public void OnnxModelMatchesTheReferenceForOtherConfigs(string description)
    {
        var config = Configs[description];
        var weights = RandomCoCaCheckpoint.Create(config, seed: description.Length, includeText: true);
        const int batch = 5;
        int context = config.Text.ContextLength;
        var ids = RandomIds(context, config.Text.VocabSize, batch, seed: 3);
        using var session = new OrtSession(TextTowerOnnx.Build(config, weights));
        var actual = session.RunInt64(TextTowerOnnx.InputIds, ids, [batch, context], TextTowerOnnx.TextEmbedding)[TextTowerOnnx.TextEmbedding];
        Assert.Equal(new long[] { batch, config.EmbedDim }, actual.Shape);
        var expected = new ReferenceTextTower(config, weights).Forward(ids, batch);
        double err = RowError.Max(actual.Data, expected, batch);
        output.WriteLine($"{description}: text_embedding max row relative error {err:E2}");
        Assert.True(err <= Tolerance, $"text_embedding {err:E3}");
    }

    private static readonly CoCaModelConfig SmallConfig = Config(6, 40, 16, 2, 2, 12);

    private static StateDict SmallWeights(Func<IEnumerable<CheckpointTensor>, IEnumerable<CheckpointTensor>> edit) =>
        new(edit(RandomCoCaCheckpoint.Create(SmallConfig, 1, includeText: true).Values).ToList(), "edited.safetensors");

    [Fact]
    public void MissingTensorIsNamedWithItsExpectedShape()
    {
        var weights = SmallWeights(l => l.Where(t => t.Name != "text.ln_final.bias"));
        var e = Assert.Throws<CheckpointException>(() => TextTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'text.ln_final.bias'", e.Message);
        Assert.Contains("[16]", e.Message);
    }

    [Fact]
    public void MisshapedPositionalEmbeddingIsNamedWithBothShapes()
    {
        // A 77-token checkpoint read with context_length 76 + cls needs 77 rows; here the config wants 7 and gets 6.
        var weights = SmallWeights(l => l.Select(t => t.Name == "text.positional_embedding" ? new CheckpointTensor(t.Name, [6, 16], new float[96]) : t));
        var e = Assert.Throws<CheckpointException>(() => TextTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'text.positional_embedding'", e.Message);
        Assert.Contains("[6, 16]", e.Message);
        Assert.Contains("[7, 16]", e.Message);
    }

    [Fact]
    public void ExtraResblockIsNamedAndOtherTowersAreIgnored()
    {
        var deeper = SmallConfig with { Text = SmallConfig.Text with { Layers = 3 } };
        var weights = RandomCoCaCheckpoint.Create(deeper, 1, includeText: true);
        var e = Assert.Throws<CheckpointException>(() => TextTowerOnnx.Build(SmallConfig, weights));
        Assert.Contains("'text.transformer.resblocks.2.ln_1.weight'", e.Message);
        Assert.Contains("12 unexpected", e.Message);
        Assert.DoesNotContain("visual.", e.Message);
    }

    [Fact]
    public void UnsupportedConfigsAreRejected()
    {
        var weights = RandomCoCaCheckpoint.Create(SmallConfig, 1, includeText: true);
        var noCls = SmallConfig with { Text = SmallConfig.Text with { EmbedCls = false } };
        Assert.Contains("embed_cls", Assert.Throws<ArgumentException>(() => TextTowerOnnx.Build(noCls, weights)).Message);
        var badHeads = SmallConfig with { Text = SmallConfig.Text with { Heads = 3 } };
        Assert.Contains("3 heads", Assert.Throws<ArgumentException>(() => TextTowerOnnx.Build(badHeads, weights)).Message);
    }

    [Fact]
    public void ModelDeclaresItsSignatureAndCarriesTheConfig()
    {
        var weights = RandomCoCaCheckpoint.Create(SmallConfig, 1, includeText: true);
        using var session = new OrtSession(TextTowerOnnx.Build(SmallConfig, weights));
        var input = session.Session.InputMetadata[TextTowerOnnx.InputIds];
        Assert.Equal(typeof(long), input.ElementType);
        Assert.Equal(new[] { -1, 6 }, input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal(new[] { -1, 12 }, session.Session.OutputMetadata[TextTowerOnnx.TextEmbedding].Dimensions);
        var meta = session.Session.ModelMetadata;
        Assert.Equal(CoCaOnnxMetadata.TextKind, meta.CustomMetadataMap[CoCaOnnxMetadata.KindKey]);
        Assert.Equal(SmallConfig.Text, CoCaOnnxMetadata.ParseConfig(meta.CustomMetadataMap[CoCaOnnxMetadata.ConfigKey])!.Text);
    }
}

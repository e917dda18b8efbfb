using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Checkpoints;
using CoCa.MLNet.Tests.Featurization;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Conversion;

/// <summary>The converter writes text.onnx exactly when the checkpoint has the text tower.</summary>
public class TextTowerConversionTests
{
    private static readonly CoCaModelConfig Config = new()
    {
        Name = "small-text",
        EmbedDim = 8,
        Vision = new VisionConfig { ImageSize = 16, PatchSize = 8, Width = 16, HeadWidth = 8, Layers = 1, AttnPoolerQueries = 2, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 6, VocabSize = 30, Width = 8, Heads = 2, Layers = 1 },
    };

    [Fact]
    public void FullCheckpointGetsATextTowerAndAVisionOnlyOneStillConverts()
    {
        using var dir = new TempDirectory();
        var full = CoCaConverter.Convert(RandomCoCaCheckpoint.Create(Config, 1, includeText: true), Config, dir.Path, "full.safetensors");
        Assert.True(full.HasText);
        Assert.True(File.Exists(full.TextModelPath));
        var manifest = File.ReadAllText(dir.File(ConvertedModel.ManifestFile));
        Assert.Contains("\"text.onnx\"", manifest);
        Assert.Contains("\"context_length\": 6", manifest);
        using (var encoder = CoCaTextEncoder.Open(dir.Path))
        {
            Assert.Equal(6, encoder.ContextLength);
            Assert.Equal(2 * 8, encoder.Run([1, 2, 3, 0, 0, 0, 4, 5, 0, 0, 0, 0], 2).Length);
        }

        // Converting a vision-only checkpoint into the same folder removes the now stale text tower.
        var visionOnly = CoCaConverter.Convert(RandomCoCaCheckpoint.Create(Config, 2, includeText: false), Config, dir.Path, "vision-only.safetensors");
        Assert.False(visionOnly.HasText);
        Assert.False(File.Exists(visionOnly.TextModelPath));
        Assert.True(File.Exists(visionOnly.VisionModelPath));
        var e = Assert.Throws<InvalidOperationException>(() => CoCaTextEncoder.Open(dir.Path));
        Assert.Contains("no text tower", e.Message);
        Assert.Contains("vision-only.safetensors", e.Message);

        var ml = new MLContext();
        var data = TextEmbeddingTests.Texts(ml, ["a"]);
        Assert.Throws<InvalidOperationException>(() => ml.Transforms.ExtractCoCaTextEmbedding(dir.Path, "unused-vocab.txt.gz").Fit(data));
    }

    [Fact]
    public void MissingTextTensorIsNamedWithItsExpectedShape()
    {
        var weights = new StateDict(RandomCoCaCheckpoint.Create(Config, 1, includeText: true).Values.Where(t => t.Name != "text.cls_emb"), "no-cls.safetensors");
        using var dir = new TempDirectory();
        var e = Assert.Throws<CheckpointException>(() => CoCaConverter.Convert(weights, Config, dir.Path));
        Assert.Contains("'text.cls_emb'", e.Message);
        Assert.Contains("[8]", e.Message);
        Assert.False(File.Exists(dir.File(ConvertedModel.ManifestFile)));
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyAreRejectedBeforeOnnxRuntime()
    {
        using var dir = new TempDirectory();
        CoCaConverter.Convert(RandomCoCaCheckpoint.Create(Config, 1, includeText: true), Config, dir.Path);
        using var encoder = CoCaTextEncoder.Open(dir.Path);
        var e = Assert.Throws<ArgumentException>(() => encoder.Run([1, 2, 49407, 0, 0, 0], 1));
        Assert.Contains("49407", e.Message);
        Assert.Contains("[0, 30)", e.Message);
        Assert.Throws<ArgumentException>(() => encoder.Run([1, 2, 3], 1));
    }
}

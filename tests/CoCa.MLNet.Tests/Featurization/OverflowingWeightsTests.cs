using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Checkpoints;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Featurization;

/// <summary>
/// Weights that are finite but overflow (a checkpoint from a diverged training: the audit's conv1 weights of 3e37) pass
/// the converter's NaN check; the encoders then compute NaN for every input. Featurizing must refuse that, naming the
/// model, not write a file of NaN embeddings (it once did, with exit code 0).
/// </summary>
public sealed class OverflowingWeightsTests
{
    private static readonly CoCaModelConfig Config = new()
    {
        Name = "overflowing",
        EmbedDim = 12,
        Vision = new VisionConfig { ImageSize = 16, PatchSize = 8, Width = 16, HeadWidth = 8, Layers = 1, AttnPoolerQueries = 2, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 20, Width = 24, Heads = 3, Layers = 1 },
    };

    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
    }

    private static string Convert(TempDirectory scratch, params string[] overflowing)
    {
        var weights = RandomCoCaCheckpoint.Create(Config, seed: 5, includeText: true);
        foreach (var name in overflowing)
        {
            // Near float32's largest (3.4e38), random signs: any product or sum of two of them overflows.
            var data = weights[name].Data;
            float max = data.Max(Math.Abs);
            for (int i = 0; i < data.Length; i++) data[i] = data[i] / max * 3e38f;
        }
        var modelDir = scratch.File("model");
        CoCaConverter.Convert(weights, Config, modelDir);
        return modelDir;
    }

    private static void AssertRefused(Exception? thrown, string model)
    {
        Assert.NotNull(thrown);
        var e = Assert.IsType<InvalidDataException>(thrown!.GetBaseException());
        Assert.StartsWith($"The CoCa {model} 'overflowing' computed ", e.Message);
        Assert.Contains("its weights overflow or hold NaN", e.Message);
    }

    [Fact]
    public void ImageFeatures_OfAnOverflowingVisionTower_AreRefusedNamingTheModel()
    {
        using var scratch = new TempDirectory();
        var modelDir = Convert(scratch, "visual.conv1.weight");
        var images = SyntheticImageDataset.Generate(scratch.File("images"), 1, 2, 40, 36, 0).Select(i => new ImageRow { Image = i.Path });
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(images);
        using var model = ml.Transforms.ExtractCoCaImageFeatures(modelDir).Fit(data);
        AssertRefused(Record.Exception(() => model.Transform(data).GetColumn<float[]>("Embedding").ToList()), "vision model");
        AssertRefused(Record.Exception(() => model.Transform(data).GetColumn<float[]>("Tokens").ToList()), "vision model");
    }

    [Fact]
    public void TextEmbeddings_OfAnOverflowingTextTower_AreRefusedNamingTheModel()
    {
        using var scratch = new TempDirectory();
        var modelDir = Convert(scratch, "text.text_projection");
        var ml = new MLContext(seed: 0);
        var data = TextEmbeddingTests.Texts(ml, ["a photo of a cat", "a dog"]);
        using var model = ml.Transforms.ExtractCoCaTextEmbedding(modelDir, Fixtures.ClipBpe).Fit(data);
        AssertRefused(Record.Exception(() => model.Transform(data).GetColumn<float[]>("TextEmbedding").ToList()), "text model");
    }
}

using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Text;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Video;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.FineTuning;

/// <summary>
/// <see cref="CoCaFineTuner.Evaluate"/> as the paper measures retrieval: several captions per image, videos as the mean
/// of their frames, and no number from a model that gives NaN.
/// </summary>
public sealed class PairEvaluationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-pair-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny CoCa with seeded random weights, saved as an open_clip checkpoint folder.</summary>
    private string SeededCheckpoint()
    {
        var folder = Path.Combine(_dir, "checkpoint");
        using var model = CoCaCheckpointFolder.Load(TinyPairs.ConfigOnlyCheckpoint(_dir), seed: 3);
        CoCaCheckpointFolder.Save(model, folder);
        return folder;
    }

    private static readonly string[] CaptionWords = ["a picture of a", "a drawing of a", "one", "look: a", "this is a"];

    /// <summary>3 shapes, 5 captions each, rows interleaved (an image's captions are not adjacent).</summary>
    private string FiveCaptionsPerImageCsv()
    {
        var images = SyntheticImageDataset.Generate(Path.Combine(_dir, "images"), classCount: 3, perClass: 1, 40, 36, seed: 1);
        var rows = new List<string> { "image,caption" };
        for (int c = 0; c < CaptionWords.Length; c++)
            foreach (var (path, label) in images)
                rows.Add($"{Path.GetRelativePath(_dir, path)},{CaptionWords[c]} {label}");
        var csv = Path.Combine(_dir, "pairs.csv");
        File.WriteAllLines(csv, rows);
        return csv;
    }

    [FixtureFact]
    public void SeveralCaptionsPerImage_AreOneImage_AndRecallIsThatOfTheModelsEmbeddings()
    {
        var checkpoint = SeededCheckpoint();
        var pairs = ImageCaptionPairs.Read(FiveCaptionsPerImageCsv());
        var m = CoCaFineTuner.Evaluate(checkpoint, Fixtures.ClipBpe, pairs, batchSize: 4);
        output.WriteLine(m.ToString());
        Assert.Equal((15, 3, 0), (m.Pairs, m.Images, m.Videos));
        Assert.True(m.ContrastiveLoss > 0 && m.CaptionLoss > 0);

        // The reference: each image through the vision tower alone, each caption through the text tower alone.
        using var model = CoCaCheckpointFolder.Load(checkpoint);
        model.eval();
        using var _ = torch.no_grad();
        var loader = new PairBatchLoader(model.Config, ClipTokenizer.FromFile(Fixtures.ClipBpe));
        var distinct = pairs.Select(p => p.ImagePath).Distinct().ToList();
        var images = distinct.Select(path => Row(model.Visual.Encode(loader.LoadPixels([pairs.First(p => p.ImagePath == path)], CPU)).ImageEmbedding)).ToList();
        var captions = pairs.Select(p => Row(model.Text.forward(loader.LoadIds([p], CPU)).TextEmbedding)).ToList();
        var expected = CoCaRetrieval.Recall(images, captions, pairs.Select(p => distinct.IndexOf(p.ImagePath)).ToList());
        Assert.Equal(expected, m.Retrieval);
    }

    [Fact]
    public void ForwardSharedImages_EqualsForwardOnTheRepeatedImages()
    {
        torch.manual_seed(0);
        using var model = new CoCaModel(TinyPairs.Config);
        CoCaInitializer.Initialize(model, 5);
        model.eval();
        using var _ = torch.no_grad();
        int size = TinyPairs.Config.Vision.ImageSize;
        var distinct = torch.randn(2, 3, size, size);
        var ids = torch.randint(1, 400, [3, TinyPairs.Config.Text.ContextLength], dtype: ScalarType.Int64);
        var imageOfRow = torch.tensor(new long[] { 1, 0, 1 });
        var shared = model.ForwardSharedImages(distinct, ids, imageOfRow);
        var plain = model.forward(distinct.index_select(0, imageOfRow), ids);
        Assert.True(shared.ImageEmbedding.allclose(plain.ImageEmbedding, rtol: 1e-5, atol: 1e-6));
        Assert.True(shared.TextEmbedding.allclose(plain.TextEmbedding, rtol: 1e-5, atol: 1e-6));
        Assert.True(shared.Logits.allclose(plain.Logits, rtol: 1e-5, atol: 1e-5));
    }

    [FixtureFact]
    public void NaNWeights_AreRefusedNamingTheRows_NotRankedAsHits()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir, classes: 2, perClass: 2));
        using var model = new CoCaModel(TinyPairs.Config);
        using (torch.no_grad())
            foreach (var p in model.parameters()) p.fill_(float.NaN); // a fine-tune that diverged
        var loader = new PairBatchLoader(model.Config, ClipTokenizer.FromFile(Fixtures.ClipBpe));
        var e = Assert.Throws<InvalidDataException>(() => CoCaPairEvaluator.Evaluate(model, pairs, loader, 4, CPU, model.Config.Text.PadId));
        output.WriteLine(e.Message);
        Assert.Contains("contrastive loss is NaN on the pairs of lines 2–5", e.Message);
        Assert.Contains("learning rate", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [FixtureFact]
    public void Videos_AreTheMeanOfTheirSampledFrames_AsTheVideoFeaturizerComputesThem()
    {
        var checkpoint = SeededCheckpoint();
        var videos = VideoDatasetGenerator.GenerateMotionDataset(Path.Combine(_dir, "videos"),
            new MotionDatasetOptions { VideosPerClass = 1, FrameCount = 6, Width = 32, Height = 32, Seed = 2 });
        var frameFolder = Path.GetDirectoryName(SyntheticImageDataset.Generate(Path.Combine(_dir, "frames"), classCount: 1, perClass: 5, 40, 36, seed: 4)[0].Path)!;
        var image = SyntheticImageDataset.Generate(Path.Combine(_dir, "still"), classCount: 2, perClass: 1, 40, 36, seed: 5)[1].Path;
        var rows = new List<string> { "image,caption" };
        foreach (var v in videos)
        {
            rows.Add($"{v.Path},a square moving {v.Label}");
            rows.Add($"{v.Path},\"moving {v.Label}, a square\"");
        }
        rows.Add($"{frameFolder},circles one after another");
        rows.Add($"{image},a still square");
        var csv = Path.Combine(_dir, "videos.csv");
        File.WriteAllLines(csv, rows);
        var pairs = ImageCaptionPairs.Read(csv);

        const int frames = 4;
        var m = CoCaFineTuner.Evaluate(checkpoint, Fixtures.ClipBpe, pairs, batchSize: 3, frames: frames);
        output.WriteLine(m.ToString());
        Assert.Equal((10, 6, 5), (m.Pairs, m.Images, m.Videos));
        Assert.NotNull(m.ContrastiveLoss); // over the one image pair

        // The library's path: the ONNX video featurizer's mean frame embeddings and the text featurizer's embeddings,
        // through the same retrieval metrics.
        var converted = CoCaConverter.Convert(checkpoint, Path.Combine(_dir, "onnx")).Directory;
        var distinct = pairs.Select(p => p.ImagePath).Distinct().ToList();
        using var imageExtractor = CoCaImageFeatureExtractor.Open(converted);
        var videoExtractor = new CoCaVideoFeatureExtractor(imageExtractor, frameCount: frames);
        var (_, videoEmbeddings) = videoExtractor.Extract(distinct.Where(VideoFiles.IsVideo).ToList(), tokens: false, embeddings: true);
        var (_, stillEmbedding) = imageExtractor.Extract([image], tokens: false, embeddings: true);
        using var text = CoCaTextFeatureExtractor.Open(converted, Fixtures.ClipBpe);
        var captionEmbeddings = text.Embed(pairs.Select(p => p.Caption).ToList());
        // distinct = 4 videos, the frame folder, then the still image (order of first appearance).
        var expected = CoCaRetrieval.Recall([.. videoEmbeddings!, .. stillEmbedding!], captionEmbeddings, imageExtractor.Encoder.EmbedDim,
            pairs.Select(p => distinct.IndexOf(p.ImagePath)).ToList());
        output.WriteLine($"ONNX featurizers: {expected}");
        Assert.Equal(expected, m.Retrieval);
    }

    private static float[] Row(Tensor embedding) => embedding.squeeze(0).contiguous().data<float>().ToArray();
}

using CoCa.MLNet.Captioning;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Evaluation;
using CoCa.MLNet.Training.FineTuning;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests.FineTuning;

/// <summary>
/// <see cref="CoCaFineTuneOptions.CaptionMetrics"/>: after every epoch the fine-tuner greedy-captions the validation
/// images and reports CIDEr and BLEU-4 next to the losses and recalls.
/// </summary>
public sealed class CaptionMetricsDuringFineTuningTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-caption-metrics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void EveryEpoch_ReportsTheScoresOfItsGreedyCaptions_WhichAreTheEpochCheckpointsCaptions()
    {
        var csv = TinyPairs.WriteCsv(_dir);
        var train = ImageCaptionPairs.Read(csv);
        // Two references per image: rows naming the same image are one image with several captions.
        var validationCsv = Path.Combine(_dir, "validation.csv");
        System.IO.File.WriteAllLines(validationCsv, System.IO.File.ReadAllLines(csv)
            .Concat(System.IO.File.ReadAllLines(csv).Skip(1).Select(l => l.Replace(",a picture of a ", ",a drawing of a ", StringComparison.Ordinal))));
        var validation = ImageCaptionPairs.Read(validationCsv);
        var images = validation.Select(p => p.ImagePath).Distinct().ToList();
        Assert.Equal((24, 12), (validation.Count, images.Count));
        var references = validation.GroupBy(p => p.ImagePath)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(p => p.Caption).ToList());

        var outDir = Path.Combine(_dir, "out");
        var epochs = new List<CoCaFineTuneProgress>();
        var log = new List<string>();
        var result = CoCaFineTuner.Train(TinyPairs.Options(TinyPairs.ConfigOnlyCheckpoint(_dir), outDir, epochs: 4, learningRate: 5e-3, captionMetrics: true,
            progress: p => { if (p.EndOfEpoch) epochs.Add(p); output.WriteLine(p.ToString()); }, log: log.Add), train, validation);

        Assert.Contains(log, l => l.StartsWith("Caption metrics: after every epoch, greedy captions of the 12 validation images (up to 13 tokens each", StringComparison.Ordinal));
        Assert.Equal(4, epochs.Count);
        var epochCaptions = new List<IReadOnlyDictionary<string, string>>();
        foreach (var epoch in epochs)
        {
            var metrics = Assert.IsType<ValidationCaptionMetrics>(epoch.CaptionMetrics);
            Assert.Equal(images, metrics.Captions.Keys);
            output.WriteLine($"epoch {epoch.Epoch}: {string.Join(" | ", metrics.Captions.Values.Distinct())}");
            // The scores are CaptionMetrics over the whole set of the captions reported, in one call.
            var expected = CaptionMetrics.Compute(references, metrics.Captions);
            Assert.Equal(expected.ByName(), metrics.Scores.ByName());
            Assert.Equal((12, 24), (metrics.Scores.Images, metrics.Scores.References));
            // Next to the losses and recalls in the epoch's line.
            Assert.Matches($"; validation: pairs 24 .*R@10 [^,;]*, CIDEr {metrics.Cider:F3} BLEU-4 {metrics.Bleu4:F3} \\(greedy captions of 12 images, ", epoch.ToString());
            Assert.True(metrics.DecodingTime > TimeSpan.Zero);
            epochCaptions.Add(metrics.Captions);
        }
        Assert.Same(epochs[^1].CaptionMetrics, result.CaptionMetrics);
        // The scores follow what the model learns: from noise (CIDEr 0) to "a picture of a circle" for every picture.
        var (first, last) = (epochs[0].CaptionMetrics!, epochs[^1].CaptionMetrics!);
        Assert.True(last.Cider > first.Cider + 1 && last.Bleu4 > first.Bleu4 + 0.3, $"caption metrics did not rise: {first} → {last}");

        // The captions are the epoch's model's: the ONNX captioner (open_clip's ids, tested apart) of the converted
        // epoch checkpoint writes the same greedy captions, capped at the 13 tokens the 12-token context allows.
        foreach (int e in new[] { 1, 4 })
        {
            var converted = Path.Combine(_dir, $"converted_{e}");
            CoCaConverter.Convert(Path.Combine(outDir, "checkpoints", $"epoch_{e}"), converted);
            using var captioner = CoCaCaptioner.Open(converted, Fixtures.ClipBpe);
            var onnx = captioner.Caption(images, new CaptionGenerationOptions { Decoding = CaptionDecoding.Greedy, MaxTokens = 13 });
            Assert.Equal(onnx.Select(c => c.Text), images.Select(i => epochCaptions[e - 1][i]));
        }
    }

    [Fact]
    public void WithoutValidationImages_RefusedBeforeAnyWork()
    {
        var train = new List<ImageCaptionPair> { new(Path.Combine(_dir, "a.png"), "a cat", 2) };
        var outDir = Path.Combine(_dir, "out");
        var options = TinyPairs.Options(Path.Combine(_dir, "scratch"), outDir, captionMetrics: true);

        foreach (var none in new[] { null, new List<ImageCaptionPair>() })
        {
            var ex = Assert.Throws<ArgumentException>(() => CoCaFineTuner.Train(options, train, none));
            Assert.Contains("CaptionMetrics (--caption-metrics) captions the validation images after each epoch, but there are no validation pairs", ex.Message);
        }
        var video = Path.Combine(_dir, "clip.mp4");
        var withVideo = new List<ImageCaptionPair> { new(Path.Combine(_dir, "b.png"), "a dog", 2), new(video, "a dog runs", 3) };
        var bad = Assert.Throws<InvalidDataException>(() => CoCaFineTuner.Train(options, train, withVideo));
        Assert.Equal($"Validation pair '{video}' (line 3) is a video, and CaptionMetrics (--caption-metrics) captions images only: " +
            "leave videos out of the validation pairs or turn caption metrics off.", bad.Message);
        Assert.False(Directory.Exists(outDir), "a refused run left an output folder");
    }
}

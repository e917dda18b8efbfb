using System.Diagnostics;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Evaluation;
using CoCa.MLNet.Text;
using CoCa.MLNet.Training.Captioning;
using CoCa.MLNet.Training.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// <see cref="CoCaFineTuneOptions.CaptionMetrics"/>: greedy-captions the distinct validation images with the model
/// being trained (TorchSharp, batch by batch) and scores them against their validation captions; rows naming the same
/// image are one image with several references.
/// </summary>
internal static class ValidationCaptioner
{
    /// <summary>Refuses, before any work, caption metrics without validation images to caption.</summary>
    /// <exception cref="ArgumentException">No validation pairs.</exception>
    /// <exception cref="InvalidDataException">A validation row is a video.</exception>
    public static void RequireUsable(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair>? validation)
    {
        if (!options.CaptionMetrics) return;
        if (validation is not { Count: > 0 })
            throw new ArgumentException(
                "CaptionMetrics (--caption-metrics) captions the validation images after each epoch, but there are no validation pairs: give them (--validation PAIRS.csv) or turn caption metrics off.",
                nameof(validation));
        if (validation.FirstOrDefault(p => p.IsVideo) is { } video)
            throw new InvalidDataException(
                $"Validation pair '{video.ImagePath}' ({video.Origin}) is a video, and CaptionMetrics (--caption-metrics) captions images only: leave videos out of the validation pairs or turn caption metrics off.");
    }

    /// <summary>The run's first lines say what caption metrics cost.</summary>
    public static string Describe(CoCaModelConfig config, IReadOnlyList<ImageCaptionPair> validation) =>
        $"Caption metrics: after every epoch, greedy captions of the {Images(validation).Count} validation images (up to {TorchCaptioning.Greedy(config).MaxTokens} tokens each, " +
        "the whole prefix recomputed at every token) scored against their captions; this decoding adds to every epoch's time.";

    public static ValidationCaptionMetrics Evaluate(CoCaModel model, IReadOnlyList<ImageCaptionPair> validation, PairBatchLoader loader, ClipTokenizer tokenizer,
        int batchSize, Device device, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var images = Images(validation);
        var references = validation.GroupBy(p => p.ImagePath, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(p => p.Caption).ToList(), StringComparer.Ordinal);
        var options = TorchCaptioning.Greedy(model.Config);
        var captions = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = images.Skip(start).Take(batchSize).ToList();
            using var pixels = loader.LoadPixels(batch, device);
            var ids = TorchCaptioning.Generate(model, pixels, options, start);
            for (int i = 0; i < batch.Count; i++) captions[batch[i].ImagePath] = tokenizer.DecodeCaption(ids[i]);
        }
        var scores = CaptionMetrics.Compute(references, captions);
        return new ValidationCaptionMetrics(scores, captions, clock.Elapsed);
    }

    // One row per distinct image, in order of first appearance.
    private static List<ImageCaptionPair> Images(IReadOnlyList<ImageCaptionPair> validation) =>
        validation.DistinctBy(p => p.ImagePath, StringComparer.Ordinal).ToList();
}

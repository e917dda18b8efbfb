using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>A from-scratch tiny CoCa (config only) and captioned synthetic pictures, for trainer tests.</summary>
internal static class TinyPairs
{
    /// <summary>Captions "a picture of a {shape}" for generated shapes; writes pairs.csv into <paramref name="dir"/>.</summary>
    public static string WriteCsv(string dir, int classes = 3, int perClass = 4, int seed = 0)
    {
        var images = SyntheticImageDataset.Generate(Path.Combine(dir, "images"), classes, perClass, 40, 36, seed);
        var csv = Path.Combine(dir, "pairs.csv");
        System.IO.File.WriteAllLines(csv, new[] { "image,caption" }
            .Concat(images.Select(i => $"{Path.GetRelativePath(dir, i.Path)},a picture of a {i.Label}")));
        return csv;
    }

    /// <summary>A folder holding only open_clip_config.json: train from scratch.</summary>
    public static string ConfigOnlyCheckpoint(string dir)
    {
        var folder = Path.Combine(dir, "scratch");
        Directory.CreateDirectory(folder);
        OpenClipConfigWriter.Write(Config, folder);
        return folder;
    }

    /// <summary>
    /// The kit's tiny captioning CoCa (32² images) with a 12-token context: these tests read captions with CLIP's BPE
    /// vocabulary, not the kit's one-token-per-word caption vocabulary the context of 8 is sized for.
    /// </summary>
    public static CoCaModelConfig Config { get; } = TinyCoCa.Config with
    {
        Text = TinyCoCa.Config.Text with { ContextLength = 12 },
        Multimodal = TinyCoCa.Config.Multimodal with { ContextLength = 12 },
    };

    /// <param name="learningRate">Null: the trainer's defaults for the start (as <paramref name="warmupFraction"/>).</param>
    public static CoCaFineTuneOptions Options(string checkpoint, string output, bool resume = false, Action<CoCaFineTuneProgress>? progress = null,
        CancellationToken cancellation = default, bool freezeVision = false, int epochs = 2, double? learningRate = 1e-3, double? warmupFraction = 0.2,
        Action<string>? log = null, bool captionMetrics = false, int batchSize = 4) => new()
    {
        Checkpoint = checkpoint,
        VocabularyPath = Fixtures.ClipBpe,
        OutputDirectory = output,
        Epochs = epochs,
        BatchSize = batchSize,
        LearningRate = learningRate,
        WarmupFraction = warmupFraction,
        Log = log is null ? null : new InlineProgress<string>(log),
        Seed = 7,
        ProgressEverySteps = 1,
        Resume = resume,
        FreezeVision = freezeVision,
        CaptionMetrics = captionMetrics,
        Cancellation = cancellation,
        Progress = progress is null ? null : new InlineProgress<CoCaFineTuneProgress>(progress),
    };
}

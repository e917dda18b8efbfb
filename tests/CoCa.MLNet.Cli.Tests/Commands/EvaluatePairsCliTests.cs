using System.Text.Json;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using TorchSharp;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary><c>coca evaluate-pairs</c> as a user runs it: paper-protocol recall, and one line for every bad input.</summary>
public sealed class EvaluatePairsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-evaluate-pairs-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string SingleLine(CliProcess.Result run) => Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [FixtureFact]
    public void ADivergedCheckpoint_IsRefusedInOneLine_WithAndWithoutJson()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 2);
        var nan = Path.Combine(_dir, "diverged");
        using (var model = new CoCaModel(TinyPairs.Config))
        {
            using (torch.no_grad())
                foreach (var p in model.parameters()) p.fill_(float.NaN);
            CoCaCheckpointFolder.Save(model, nan);
        }
        foreach (var json in new[] { false, true })
        {
            string[] args = ["evaluate-pairs", "--checkpoint", nan, "--data", csv, "--vocab", Fixtures.ClipBpe, .. json ? new[] { "--json" } : []];
            var run = CliProcess.Run(args);
            Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.StdOut} {run.StdErr}");
            Assert.Equal("", run.StdOut); // no recall of 100 % from NaN ties, no half-written JSON
            var line = SingleLine(run);
            Assert.Contains(nan, line);
            Assert.Contains("NaN", line);
            Assert.Contains("learning rate", line);
        }
    }

    [Fact]
    public void AConvertedOnnxFolder_IsNamed_AndAnOpenClipCheckpointFolderAskedFor()
    {
        var converted = Directory.CreateDirectory(Path.Combine(_dir, "models", "tiny")).FullName;
        File.WriteAllText(Path.Combine(converted, "coca.json"), "{}");
        File.WriteAllBytes(Path.Combine(converted, "vision.onnx"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        File.WriteAllText(csv, "image,caption\n");
        var run = CliProcess.Run("evaluate-pairs", "--checkpoint", converted, "--data", csv);
        Assert.Equal(1, run.ExitCode);
        var line = SingleLine(run);
        Assert.Contains($"'{converted}' is a converted ONNX model folder", line);
        Assert.Contains("needs an open_clip checkpoint folder (open_clip_config.json", line);
    }

    [Fact]
    public void OptionValues_AreCheckedAsTyped()
    {
        foreach (var (option, value) in new[] { ("--batch-size", "0"), ("--frames", "0") })
        {
            var run = CliProcess.Run("evaluate-pairs", "--checkpoint", _dir, "--data", "x.csv", option, value);
            Assert.Equal(2, run.ExitCode);
            Assert.Contains($"{option} must be at least 1 (got 0)", SingleLine(run));
        }
    }

    [Fact]
    public void AnUnquotedCommaInACaption_IsRefusedBeforeAnyWork()
    {
        var checkpoint = TinyPairs.ConfigOnlyCheckpoint(_dir);
        File.WriteAllBytes(Path.Combine(_dir, "p.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        File.WriteAllText(csv, "image,caption\np.png,a red circle\np.png,a red circle, on the left\n");
        // The vocabulary must exist (checked at parse time), but is not read before the pairs are.
        var notAVocabulary = Path.Combine(_dir, "not-a-vocabulary.txt.gz");
        File.WriteAllBytes(notAVocabulary, [1, 2, 3]);
        var run = CliProcess.Run("evaluate-pairs", "--checkpoint", checkpoint, "--data", csv, "--vocab", notAVocabulary);
        Assert.Equal(1, run.ExitCode);
        var line = SingleLine(run);
        Assert.Contains("line 3: 3 fields but the header has 2", line);
        Assert.Contains("double quotes", line);
    }

    [FixtureFact]
    public void FiveCaptionsPerImage_AndAFrameFolderVideo_JsonKeepsItsKeysAndAddsTen()
    {
        var checkpoint = Path.Combine(_dir, "checkpoint");
        using (var model = CoCaCheckpointFolder.Load(TinyPairs.ConfigOnlyCheckpoint(_dir), seed: 11))
            CoCaCheckpointFolder.Save(model, checkpoint);
        var images = SyntheticImageDataset.Generate(Path.Combine(_dir, "images"), classCount: 2, perClass: 1, 40, 36, seed: 3);
        var frames = SyntheticImageDataset.Generate(Path.Combine(_dir, "frames"), classCount: 1, perClass: 3, 40, 36, seed: 6);
        var rows = new List<string> { "image,caption" };
        foreach (var (path, label) in images)
            rows.AddRange(new[] { "a", "one", "the", "look, a", "see the" }.Select(w => $"{path},\"{w} {label}\""));
        rows.Add($"{Path.GetDirectoryName(frames[0].Path)},circles in a row");
        var csv = Path.Combine(_dir, "pairs.csv");
        File.WriteAllLines(csv, rows);

        var run = CliProcess.Run("evaluate-pairs", "--checkpoint", checkpoint, "--data", csv, "--vocab", Fixtures.ClipBpe, "--frames", "2", "--batch-size", "4", "--json");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        using var doc = JsonDocument.Parse(run.StdOut);
        var root = doc.RootElement;
        Assert.Equal(11, root.GetProperty("pairs").GetInt32());
        Assert.Equal(3, root.GetProperty("images").GetInt32());
        Assert.Equal(1, root.GetProperty("videos").GetInt32());
        Assert.True(root.GetProperty("contrastive_loss").GetDouble() > 0);

        // The numbers are the library's, for the same pairs.
        var m = CoCaFineTuner.Evaluate(checkpoint, Fixtures.ClipBpe, ImageCaptionPairs.Read(csv), batchSize: 4, frames: 2);
        Assert.Equal(m.ContrastiveLoss, root.GetProperty("contrastive_loss").GetDouble());
        Assert.Equal(m.CaptionLoss, root.GetProperty("caption_loss").GetDouble());
        foreach (var (key, expected) in new[]
        {
            ("image_to_text_recall", new double?[] { m.ImageToTextRecallAt1, m.ImageToTextRecallAt5, m.ImageToTextRecallAt10 }),
            // 3 images: a caption's own image is always among its top 5 and 10, for any model: null, not 1.
            ("text_to_image_recall", new double?[] { m.TextToImageRecallAt1, null, null }),
        })
        {
            var recall = root.GetProperty(key);
            Assert.Equal(["1", "5", "10"], recall.EnumerateObject().Select(p => p.Name));
            Assert.Equal(expected, new[] { "1", "5", "10" }.Select(k => recall.GetProperty(k) is { ValueKind: JsonValueKind.Null } ? (double?)null : recall.GetProperty(k).GetDouble()));
        }
        Assert.Equal(1.0, m.TextToImageRecallAt5);
        Assert.Equal(11, root.GetProperty("image_to_text_ranks").GetInt32());   // 11 captions, the video has one
        Assert.Equal(3, root.GetProperty("text_to_image_ranks").GetInt32());

        var text = CliProcess.Run("evaluate-pairs", "--checkpoint", checkpoint, "--data", csv, "--vocab", Fixtures.ClipBpe, "--frames", "2");
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains("images               3 (1 videos, 2 frames each)", text.StdOut);
        Assert.Contains("recall@10", text.StdOut);
        Assert.Matches(@"text→image recall@1  \d+\.\d\d %   recall@5 n/a \(3 candidates\)   recall@10 n/a \(3 candidates\)", text.StdOut);
        Assert.Contains("any model scores 100 %", text.StdOut);
    }
}

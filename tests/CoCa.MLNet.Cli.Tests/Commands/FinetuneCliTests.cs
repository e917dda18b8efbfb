using System.Text.Json;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary><c>coca finetune</c> and <c>coca evaluate-pairs</c> as a user runs them (separate processes).</summary>
public sealed class FinetuneCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetune-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void Finetune_FromAConfigOnlyFolder_ThenEvaluatePairs_AndConvert()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        var train = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--caption-weight", "1", "--freeze-vision", "--validation", csv, "--progress-every", "1");
        Assert.True(train.ExitCode == 0, train.StdErr + train.StdOut);
        Assert.Contains("epoch 1/1 step 2/2", train.StdOut);
        Assert.Contains("validation: pairs 8", train.StdOut);
        Assert.True(File.Exists(Path.Combine(outDir, "open_clip_model.safetensors")));

        // The vocabulary travels with the model: no --vocab needed.
        var eval = CliProcess.Run("evaluate-pairs", "--checkpoint", outDir, "--data", csv, "--json");
        Assert.True(eval.ExitCode == 0, eval.StdErr + eval.StdOut);
        using var doc = JsonDocument.Parse(eval.StdOut);
        var root = doc.RootElement;
        Assert.Equal(8, root.GetProperty("pairs").GetInt32());
        Assert.True(root.GetProperty("contrastive_loss").GetDouble() > 0);
        Assert.True(root.GetProperty("caption_loss").GetDouble() > 0);
        foreach (var key in new[] { "image_to_text_recall", "text_to_image_recall" })
        {
            double r1 = root.GetProperty(key).GetProperty("1").GetDouble(), r5 = root.GetProperty(key).GetProperty("5").GetDouble();
            Assert.InRange(r1, 0, 1);
            Assert.InRange(r5, r1, 1);
        }

        var convert = CliProcess.Run("convert", outDir, "--out", Path.Combine(_dir, "converted"));
        Assert.True(convert.ExitCode == 0, convert.StdErr + convert.StdOut);
        Assert.True(File.Exists(Path.Combine(_dir, "converted", "text.onnx")));
    }

    [FixtureFact]
    public void Finetune_WithAFarTooHighLearningRate_FailsWithOneLine_AndSavesNothing()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        var run = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--epochs", "2", "--batch-size", "4", "--lr", "1e9", "--progress-every", "1");
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: Training diverged at epoch 1, step ", line);
        Assert.Contains("learning rate is likely too high", line);
        Assert.Contains("nothing was saved", line);
        Assert.DoesNotContain("NaN", run.StdOut);   // no step was reported with a NaN loss
        Assert.Empty(Directory.GetFiles(outDir, "*", SearchOption.AllDirectories));   // no NaN checkpoint, no model
    }

    [FixtureFact]
    public void FinetuneOut_NeverMixesRuns_AndResumeSaysWhatItContinues()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        CliProcess.Result Finetune(params string[] more) => CliProcess.Run(
            ["finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe, "--batch-size", "4", "--lr", "1e-3", .. more]);

        var first = Finetune("--epochs", "2");
        Assert.True(first.ExitCode == 0, first.StdErr + first.StdOut);
        Assert.Contains("Training from scratch", first.StdOut);

        // The same command again would overwrite epoch 1 and leave the first run's epoch 2 to a later --resume: refused.
        var again = Finetune("--epochs", "1");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("holds an earlier run", Assert.Single(again.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("--overwrite", again.StdErr);

        // Resuming a finished run: nothing to train, said so, no "0.0 pairs/s".
        var finished = Finetune("--epochs", "2", "--resume");
        Assert.True(finished.ExitCode == 0, finished.StdErr + finished.StdOut);
        Assert.Contains($"Resuming from '{Path.Combine(outDir, "checkpoints", "epoch_2")}' (epoch 2 of 2 done, step 4)", finished.StdOut);
        Assert.Contains("Nothing left to train", finished.StdOut);
        Assert.DoesNotContain("pairs/s", finished.StdOut);

        // Resuming with more epochs re-plans the cosine over the new length (as open_clip does) and says what that does to
        // the learning rate: 2 steps an epoch, no warmup; step 5 of 6 at 1e-3·½(1 + cos(4π/6)), the old schedule ended
        // at step 4 of 4 with 1e-3·½(1 + cos(3π/4)).
        var longer = Finetune("--epochs", "3", "--resume");
        Assert.True(longer.ExitCode == 0, longer.StdErr + longer.StdOut);
        Assert.Contains("The schedule spans 3 epochs (6 steps) now, 2 (4 steps) in the saved run: the cosine is planned over the new length, " +
            "so step 5 trains at learning rate 0.00025, where the saved run's schedule ended at 0.000146.", longer.StdOut);
        Assert.True(Directory.Exists(Path.Combine(outDir, "checkpoints", "epoch_3")), "the resumed run saved no third epoch");

        // Resuming on other data (same count, other captions) is another run: refused, naming the difference.
        var otherCsv = Path.Combine(_dir, "other.csv");
        File.WriteAllLines(otherCsv, File.ReadAllLines(csv).Select((l, i) => i == 0 ? l : l.Replace("a picture of", "a drawing of")));
        var other = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", otherCsv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--batch-size", "4", "--epochs", "3", "--resume");
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("Cannot resume", other.StdErr);
        Assert.Contains("captions or images", other.StdErr);

        // --overwrite starts over: the first run's epoch 2 is gone, not continued later.
        var over = Finetune("--epochs", "1", "--overwrite");
        Assert.True(over.ExitCode == 0, over.StdErr + over.StdOut);
        Assert.Equal(["epoch_1"], Directory.GetDirectories(Path.Combine(outDir, "checkpoints")).Select(Path.GetFileName));

        // --resume where nothing was saved says so; --resume with --overwrite is a usage error.
        var empty = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", Path.Combine(_dir, "empty"), "--vocab", Fixtures.ClipBpe, "--resume");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("Nothing to resume", Assert.Single(empty.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.False(Directory.Exists(Path.Combine(_dir, "empty")), "a failed --resume left a folder behind");
        Assert.Equal(2, Finetune("--resume", "--overwrite").ExitCode);
    }

    [FixtureFact]
    public void Finetune_WithCaptionMetrics_PrintsCiderAndBleu4NextToTheValidationAfterEveryEpoch()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var run = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", Path.Combine(_dir, "out"), "--vocab", Fixtures.ClipBpe,
            "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--validation", csv, "--caption-metrics");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        Assert.Contains("Caption metrics: after every epoch, greedy captions of the 8 validation images (up to 13 tokens each", run.StdOut);
        var epochLines = run.StdOut.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal) && l.Contains(" done: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, epochLines.Count);
        Assert.All(epochLines, l => Assert.Matches(@"; validation: pairs 8 .*R@10 [^,;]*, CIDEr \d+[.,]\d{3} BLEU-4 \d+[.,]\d{3} \(greedy captions of 8 images, \d+[.,]\d s\); saved ", l));
    }

    [Fact]
    public void Finetune_CaptionMetricsWithoutValidation_IsAUsageError_AndHelpSaysWhatItCosts()
    {
        var outDir = Path.Combine(_dir, "o");
        var run = CliProcess.Run("finetune", "--checkpoint", Path.Combine(_dir, "ckpt"), "--data", Path.Combine(_dir, "pairs.csv"), "--out", outDir, "--caption-metrics");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("coca: --caption-metrics captions the validation images: give --validation PAIRS.csv with it.", Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.False(Directory.Exists(outDir));

        var help = CliProcess.Run("finetune", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--caption-metrics", help.StdOut);
        Assert.Contains("adds a decoding of every validation image to each epoch", System.Text.RegularExpressions.Regex.Replace(help.StdOut, @"\s+", " "));
    }

    [FixtureFact]
    public void Finetune_AnUnreadableValidationImage_IsRefusedBeforeTraining_NamingTheSetAndTheLine()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var broken = Path.Combine(_dir, "images", "broken.png");
        File.WriteAllText(broken, "not a picture");
        var validation = Path.Combine(_dir, "validation.csv");
        File.WriteAllLines(validation, [.. File.ReadAllLines(csv).Take(3), "images/broken.png,a broken picture"]);
        var outDir = Path.Combine(_dir, "out");
        var run = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--validation", validation, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--progress-every", "1");
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"coca: Validation pairs ('{validation}'): 1 bad image(s), so nothing was trained: image '", line);
        Assert.Contains($"broken.png' (line 4 of '{validation}') cannot be read", line);
        Assert.False(line.EndsWith("..", StringComparison.Ordinal), line);   // the decoder's message ends this one with one period
        // Refused before the first step (it was found after the epoch's training, which it threw away), the output untouched.
        Assert.DoesNotContain("step", run.StdOut);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    [FixtureFact]
    public void Finetune_AnUnreadableTrainingImageOrAVideo_IsRefusedBeforeTheFirstStep_NamingTheFileAndTheLine()
    {
        // Found mid-epoch, a bad training image threw away the epoch's training so far; now every training image is
        // decoded before the first step, and every bad line named at once.
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        File.WriteAllText(Path.Combine(_dir, "images", "broken.png"), "not a picture");
        File.WriteAllBytes(Path.Combine(_dir, "images", "clip.mp4"), [0, 0, 0, 24]);
        File.AppendAllLines(csv, ["images/broken.png,a broken picture", "images/clip.mp4,a moving picture"]);
        var outDir = Path.Combine(_dir, "out");
        var run = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--progress-every", "1");
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"coca: Training pairs ('{csv}'): 2 bad image(s), so nothing was trained: image '", line);
        Assert.Contains($"broken.png' (line 10 of '{csv}') cannot be read", line);
        Assert.Contains($"clip.mp4' (line 11 of '{csv}') is a video; CoCa trains on images", line);
        // The decoder's message is a clause of this one: no ".;" after it, no ".." at the end.
        Assert.DoesNotContain(".;", line);
        Assert.False(line.EndsWith("..", StringComparison.Ordinal), line);
        Assert.DoesNotContain("step", run.StdOut);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    [Fact]
    public void Finetune_BadPairsFile_OneLineNamingTheRow()
    {
        var csv = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(csv, "image,caption\nnot-there.png,a cat\n");
        Directory.CreateDirectory(Path.Combine(_dir, "ckpt"));
        var run = CliProcess.Run("finetune", "--checkpoint", Path.Combine(_dir, "ckpt"), "--data", csv, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("line 2: image 'not-there.png' does not exist", line);
    }
}

using System.Text.Json;
using CoCa.MLNet.Training.Tests.FineTuning;

namespace CoCa.MLNet.Training.Tests.Cli;

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

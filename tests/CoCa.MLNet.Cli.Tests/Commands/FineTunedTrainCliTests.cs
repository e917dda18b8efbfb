using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary><c>coca train --checkpoint</c> (fine-tuning) end to end, and its model through <c>evaluate</c> and <c>predict</c> unchanged.</summary>
public sealed class FineTunedTrainCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetuned-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TrainWithACheckpoint_FineTunes_AndEvaluateAndPredictTakeTheModel()
    {
        var checkpoint = TinyCheckpoint.RandomCheckpoint(_dir);
        var data = Path.Combine(_dir, "data");
        var images = SyntheticImageDataset.Generate(data, classCount: 3, perClass: 6, width: 40, height: 36, seed: 2);
        var model = Path.Combine(_dir, "fine-tuned.zip");
        var run = CliProcess.Run("train", "--checkpoint", checkpoint, "--data", data, "--out", model, "--trainable-blocks", "1", "--epochs", "2", "--batch-size", "8");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("Fine-tuning", run.StdOut);
        Assert.Contains("the top 1 of 2 encoder blocks", run.StdOut);
        Assert.Contains("fine-tuned featurizer + attentional pooler", run.StdOut);

        var evaluate = CliProcess.Run("evaluate", "--model", model, "--data", data);
        Assert.True(evaluate.ExitCode == 0, evaluate.StdErr);
        Assert.Contains("accuracy", evaluate.StdOut, StringComparison.OrdinalIgnoreCase);
        var predict = CliProcess.Run("predict", "--model", model, images[0].Path);
        Assert.True(predict.ExitCode == 0, predict.StdErr);
        Assert.Contains(Path.GetFileName(images[0].Path), predict.StdOut);
    }

    [Fact]
    public void Mistakes_AreOneLine_BeforeAnyWork()
    {
        var checkpoint = TinyCheckpoint.RandomCheckpoint(_dir);
        var data = Path.Combine(_dir, "data");
        SyntheticImageDataset.Generate(data, classCount: 2, perClass: 2, width: 40, height: 36);
        var converted = Path.Combine(_dir, "converted");
        CoCa.MLNet.Conversion.CoCaConverter.Convert(checkpoint, converted);
        var model = Path.Combine(_dir, "m.zip");

        AssertOneLine(CliProcess.Run("train", "--checkpoint", converted, "--data", data, "--out", model), "converted ONNX model folder", 1);
        AssertOneLine(CliProcess.Run("train", "--checkpoint", checkpoint, "--data", data, "--out", model, "--trainable-blocks", "3"), "--trainable-blocks 3 is more than the 2 blocks of the vision tower", 2);
        AssertOneLine(CliProcess.Run("train", "--checkpoint", checkpoint, "--data", data, "--out", model, "--trainable-blocks", "some"), "--trainable-blocks 'some'", 2);
        AssertOneLine(CliProcess.Run("train", "--checkpoint", checkpoint, "--model", converted, "--data", data, "--out", model), "one of them", 2);
        AssertOneLine(CliProcess.Run("train", "--model", converted, "--data", data, "--out", model, "--trainable-blocks", "1"), "give --checkpoint", 2);
        Assert.False(File.Exists(model));
    }

    private static void AssertOneLine(CliProcess.Result result, string expected, int exitCode)
    {
        Assert.Equal(exitCode, result.ExitCode);
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.StdErr);
        Assert.Contains(expected, lines[0]);
    }
}

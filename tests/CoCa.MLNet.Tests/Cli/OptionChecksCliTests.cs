namespace CoCa.MLNet.Tests.Cli;

/// <summary>
/// featurize and embed-text check their options and --out before any work, naming the flag the user typed.
/// </summary>
public sealed class OptionChecksCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-cli-checks-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static void AssertOneLineError(CliProcess.Result result, params string[] expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: ", line);
        foreach (var e in expected) Assert.Contains(e, line);
        Assert.Empty(result.StdOut.Trim());
    }

    [FixtureFact]
    public void Featurize_RefusesBadBatchSizeThreadsFramesAndOut_BeforeAnyWork()
    {
        var output = Path.Combine(_dir.FullName, "out.npy");
        string[] featurize = ["featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images")];
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--batch-size", "0"]), "--batch-size must be at least 1 (got 0)");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--threads", "-2"]), "--threads must be at least 0 (got -2)");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--video", "--frames", "0"]), "--frames must be at least 1");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", _dir.FullName]), "--out", "is a folder");
        var aFile = Path.Combine(_dir.FullName, "a-file");
        File.WriteAllText(aFile, "");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", Path.Combine(aFile, "out.npy")]), "--out", "cannot be written");
        Assert.False(File.Exists(output));
    }

    [FixtureFact]
    public void EmbedText_RefusesBadBatchSizeThreadsAndOut_BeforeAnyWork()
    {
        var output = Path.Combine(_dir.FullName, "text.npy");
        string[] embed = ["embed-text", "--model", TinyModel.Directory, "--vocab", Fixtures.ClipBpe, "a photo of a cat"];
        AssertOneLineError(CliProcess.Run([.. embed, "--out", output, "--batch-size", "-1"]), "--batch-size must be at least 1 (got -1)");
        AssertOneLineError(CliProcess.Run([.. embed, "--out", output, "--threads", "-1"]), "--threads must be at least 0");
        AssertOneLineError(CliProcess.Run([.. embed, "--out", _dir.FullName]), "--out", "is a folder");
        Assert.False(File.Exists(output));
    }
}

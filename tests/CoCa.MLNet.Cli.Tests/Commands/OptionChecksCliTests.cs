namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// featurize and embed-text check their options and --out before any work, naming the flag the user typed.
/// </summary>
public sealed class OptionChecksCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-cli-checks-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static void AssertOneLineError(CliProcess.Result result, params string[] expected)
    {
        Assert.Equal(2, result.ExitCode);   // usage errors, found at parse time
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: ", line);
        foreach (var e in expected) Assert.Contains(e, line);
        Assert.Empty(result.StdOut.Trim());
    }

    [Fact]
    public void WholeNumbersBeyondTheOptionsRange_AreRefusedWithTheRange_NotAsNotWholeNumbers()
    {
        IReadOnlyList<string> Errors(params string[] option) => CliRunner.UsageErrors(CliRunner.Parse(CoCa.MLNet.Cli.Commands.CommandCatalog.Root(),
            ["train", "--model", _dir.FullName, "--data", _dir.FullName, "--out", Path.Combine(_dir.FullName, "m.zip"), .. option]));
        Assert.Contains("--epochs must be 1 to 2147483647 (got 100000000000).", Errors("--epochs", "100000000000"));
        Assert.Contains("--seed must be -2147483648 to 2147483647 (got -99999999999).", Errors("--seed", "-99999999999"));
        Assert.Contains("--epochs must be a whole number (got '1e3').", Errors("--epochs", "1e3"));
    }

    [FixtureFact]
    public void Featurize_RefusesBadBatchSizeThreadsFramesAndOut_BeforeAnyWork()
    {
        var output = Path.Combine(_dir.FullName, "out.npy");
        string[] featurize = ["featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images")];
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--batch-size", "0"]), "--batch-size must be at least 1 (got 0)");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--threads", "-2"]), "--threads must be 0 to 1024 (got -2)");
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--threads", "100000"]), "--threads must be 0 to 1024 (got 100000)");
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
        AssertOneLineError(CliProcess.Run([.. embed, "--out", output, "--threads", "-1"]), "--threads must be 0 to 1024 (got -1)");
        AssertOneLineError(CliProcess.Run([.. embed, "--out", _dir.FullName]), "--out", "is a folder");
        Assert.False(File.Exists(output));
    }

    [FixtureFact]
    public void Device_OneVocabularyOnEveryCommand_BadNameIsOneLine_CudaFallsBackToCpu()
    {
        var output = Path.Combine(_dir.FullName, "e.npy");
        string[] featurize = ["featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images"), "--output", "embedding"];
        const string expected = "--device 'gpu0' is not recognised; expected \"cpu\", \"cuda\" or \"cuda:N\".";
        AssertOneLineError(CliProcess.Run([.. featurize, "--out", output, "--device", "gpu0"]), expected);
        AssertOneLineError(CliProcess.Run(["embed-text", "--model", TinyModel.Directory, "--vocab", Fixtures.ClipBpe, "--out", output, "--device", "gpu0", "a cat"]), expected);
        AssertOneLineError(CliProcess.Run(["caption", "--model", TinyModel.Directory, "--vocab", Fixtures.ClipBpe, "--device", "gpu0", Fixtures.Tiny("images")]), expected);
        AssertOneLineError(CliProcess.Run(["train", "--model", TinyModel.Directory, "--data", _dir.FullName, "--out", Path.Combine(_dir.FullName, "m.zip"), "--device", "gpu0"]), expected);
        AssertOneLineError(CliProcess.Run(["finetune", "--checkpoint", Fixtures.TinyCoCa, "--data", Fixtures.Tiny("reference.json"), "--out", _dir.FullName, "--device", "gpu0"]), expected);
        Assert.False(File.Exists(output));

        // cuda:0 on a machine or build without CUDA runs on the CPU (FallbackToCpu), as does the deprecated --gpu 0.
        var cpu = CliProcess.Run([.. featurize, "--out", output, "--device", "cpu"]);
        Assert.True(cpu.ExitCode == 0, cpu.StdErr);
        var expectedBytes = File.ReadAllBytes(output);
        foreach (var device in new[] { new[] { "--device", "cuda:0" }, ["--gpu", "0"] })
        {
            var run = CliProcess.Run([.. featurize, "--out", output, .. device]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            Assert.Equal(expectedBytes, File.ReadAllBytes(output));
        }
    }
}

using System.Diagnostics;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>Ctrl+C (SIGINT) and SIGTERM sent to a coca run in the middle of its work, as a user or a scheduler sends them.</summary>
public sealed class InterruptCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-interrupt-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A terminal's Ctrl+C reaches a process whose SIGINT has its default handling; a test host started in the
    /// background (as CI starts it) would pass SIGINT on ignored, as a shell's background jobs do, and .NET leaves an
    /// ignored signal ignored. So coca starts with SIGINT's default handling restored, as in a terminal.
    /// </summary>
    private static readonly string[] AsFromATerminal = ["env", "--default-signal=INT"];

    [FixtureTheory]
    [InlineData(2, 130, "interrupted")]
    [InlineData(15, 143, "terminated")]
    public void ASignalledFeaturize_EndsWithOneLine_LeavesTheOldFile_AndNoTemporaryFile(int signal, int exitCode, string said)
    {
        var output = Path.Combine(_dir, "features.npy");
        File.WriteAllText(output, "features of an earlier run");
        var images = Directory.GetFiles(Fixtures.Tiny("images")).Order(StringComparer.Ordinal).ToArray();
        var stuck = StuckInput.Create(Path.Combine(_dir, "stuck.png"));

        using var run = CliProcess.StartUnder(AsFromATerminal, "featurize", "--model", TinyModel.Directory, "--batch-size", "1", "--out", output, "--images", images[0], stuck, images[1]);
        var stderr = run.StandardError.ReadToEndAsync();
        var stdout = run.StandardOutput.ReadToEndAsync();
        StuckInput.WaitForFile(run, _dir, ".features.npy.*.tmp");
        StuckInput.Signal(run, signal);
        Assert.True(run.WaitForExit(TimeSpan.FromMinutes(1)), "coca did not end after the signal");

        Assert.Equal(exitCode, run.ExitCode);
        var lastLine = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Equal($"coca: {said}; '{output}' was not written (its unfinished copy is deleted; a file already there is unchanged).", lastLine);
        Assert.Equal("features of an earlier run", File.ReadAllText(output));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        _ = stdout.Result;
    }

    [FixtureFact]
    public void CtrlCDuringFinetune_StopsAtTheNextStep_KeepingItsCheckpoints_SoResumeContinues()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        string[] finetune = ["finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--batch-size", "4", "--lr", "1e-3", "--progress-every", "1"];

        using var run = CliProcess.StartUnder(AsFromATerminal, [.. finetune, "--epochs", "10000"]);
        var stderr = run.StandardError.ReadToEndAsync();
        var stdout = run.StandardOutput.ReadToEndAsync();
        StuckInput.WaitForFile(run, Path.Combine(outDir, "checkpoints", "epoch_1"), "*");   // renamed there when complete
        var clock = Stopwatch.StartNew();
        StuckInput.Signal(run, 2);
        Assert.True(run.WaitForExit(TimeSpan.FromMinutes(2)), "finetune did not stop after Ctrl+C");

        Assert.Equal(130, run.ExitCode);
        Assert.Contains("coca: stopping at the next step; the last epoch checkpoint stays (continue with --resume). Ctrl+C again stops at once.", stderr.Result);
        Assert.DoesNotContain("interrupted", stderr.Result);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"stopping took {clock.Elapsed}: more than a step");
        _ = stdout.Result;
        var saved = Directory.GetDirectories(Path.Combine(outDir, "checkpoints")).Select(Path.GetFileName).ToList();
        Assert.All(saved, name => Assert.StartsWith("epoch_", name));   // no half-saved checkpoint
        var last = saved.Max(name => int.Parse(name!["epoch_".Length..]));

        var resumed = CliProcess.Run([.. finetune, "--epochs", $"{last + 1}", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr + resumed.StdOut);
        Assert.Contains($"Resuming from '{Path.Combine(outDir, "checkpoints", $"epoch_{last}")}' (epoch {last} of ", resumed.StdOut);
        Assert.True(Directory.Exists(Path.Combine(outDir, "checkpoints", $"epoch_{last + 1}")), resumed.StdOut);
    }
}

using System.Diagnostics;

namespace CoCa.MLNet.Training.Tests.Stress;

/// <summary>
/// Training survives a garbage collector that runs all the time (the crash of issue 9: TorchSharp Scalars made
/// implicitly from doubles, finalized while libtorch still read them). Each run is a child process, so a native crash
/// shows as a failed test with its output, not as a dead test host.
/// </summary>
public class GcStressTests
{
    [Fact]
    public void Trainer_SurvivesConstantGarbageCollection()
    {
        var (code, output) = RunChild("trainer", 8);
        Assert.True(code == 0 && output.Contains(GcStressProgram.Completed), $"training under GC stress ended with exit code {code}:\n{output}");
    }

    [Fact]
    public void OwnedAdamW_SurvivesConstantGarbageCollection()
    {
        var (code, output) = RunChild("owned-adamw", 2000);
        Assert.True(code == 0 && output.Contains(GcStressProgram.Completed), $"AdamWOptimizer under GC stress ended with exit code {code}:\n{output}");
    }

    internal static (int ExitCode, string Output) RunChild(string mode, int count, int timeoutMinutes = 5)
    {
        var dll = typeof(GcStressProgram).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, GcStressProgram.Verb, mode, count.ToString(System.Globalization.CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(timeoutMinutes)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"gc-stress {mode} {count} did not finish in {timeoutMinutes} minutes");
        }
        var text = stdout.Result + stderr.Result;
        return (p.ExitCode, text.Length > 4000 ? text[..2000] + "\n…\n" + text[^2000..] : text);
    }
}

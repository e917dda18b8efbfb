using System.Diagnostics;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>Runs the built <c>coca</c> tool as a user would, in its own process.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(params string[] args) => RunUnder([], args);

    /// <summary>Runs coca with a longer limit than the default 5 minutes (e.g. the demo, which trains a model).</summary>
    public static Result RunFor(TimeSpan limit, params string[] args) => RunUnder([], limit, args);

    /// <summary>Runs coca under a launcher command (e.g. <c>taskset -c 0</c>).</summary>
    public static Result RunUnder(string[] launcher, params string[] args) => RunUnder(launcher, TimeSpan.FromMinutes(5), args);

    private static Result RunUnder(string[] launcher, TimeSpan limit, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "coca.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var l in launcher.Skip(1)) psi.ArgumentList.Add(l);
        if (launcher.Length > 0) psi.ArgumentList.Add(dotnet);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"coca {string.Join(' ', args)} did not finish in {limit.TotalMinutes:0} minutes");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}

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

    /// <summary>
    /// Starts coca and returns at once, its output redirected (read it, or it may fill the pipe): for tests that watch a
    /// run while it works, or kill it. The caller disposes the process.
    /// </summary>
    public static Process Start(params string[] args) => StartUnder([], args);

    /// <summary>As <see cref="Start"/>, under a launcher command (e.g. <c>env --default-signal=INT</c>).</summary>
    public static Process StartUnder(string[] launcher, params string[] args) => Process.Start(StartInfo(launcher, args))!;

    /// <summary>Runs a .NET application of the test's output folder (e.g. a sample's <c>AspNetCore.dll</c>) as coca is run.</summary>
    public static Result RunApp(string dll, TimeSpan limit, params string[] args) => Wait(Process.Start(StartInfo([], args, dll))!, limit, args);

    private static ProcessStartInfo StartInfo(string[] launcher, string[] args, string dll = "coca.dll")
    {
        var path = Path.Combine(AppContext.BaseDirectory, dll);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var l in launcher.Skip(1)) psi.ArgumentList.Add(l);
        if (launcher.Length > 0) psi.ArgumentList.Add(dotnet);
        psi.ArgumentList.Add(path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    private static Result RunUnder(string[] launcher, TimeSpan limit, string[] args) => Wait(Process.Start(StartInfo(launcher, args))!, limit, args);

    private static Result Wait(Process started, TimeSpan limit, string[] args)
    {
        using var p = started;
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

using System.Diagnostics;

namespace CoCa.MLNet.Tests.Video;

/// <summary>Runs ffmpeg directly in tests, to make inputs the library itself does not write.</summary>
internal static class FfmpegTool
{
    public static void Run(string tool, params string[] arguments)
    {
        var (exitCode, stderr) = Execute(tool, arguments);
        Assert.True(exitCode == 0, $"{tool} {string.Join(' ', arguments)} failed with {exitCode}: {stderr}");
    }

    public static bool TryRun(string tool, params string[] arguments) => Execute(tool, arguments).ExitCode == 0;

    private static (int ExitCode, string Stderr) Execute(string tool, string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }
}

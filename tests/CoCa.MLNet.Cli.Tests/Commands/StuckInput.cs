using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// Holds a coca run in the middle of its work so that a test can kill it there, as Ctrl+C, an out-of-memory kill or a
/// pre-empted node would, without guessing at timings: <see cref="Create"/> makes a named pipe with an image's name,
/// and a run that reads it blocks until the pipe is opened for writing (never, here).
/// </summary>
internal static class StuckInput
{
    /// <summary>Makes the named pipe <paramref name="path"/> (e.g. <c>stuck.png</c>).</summary>
    public static string Create(string path)
    {
        if (mkfifo(path, 0b110_110_110) != 0)
            throw new IOException($"mkfifo '{path}' failed (errno {Marshal.GetLastPInvokeError()}).");
        return path;
    }

    /// <summary>Waits until a file matching <paramref name="pattern"/> appears in <paramref name="folder"/> (the run got that far).</summary>
    public static string WaitForFile(Process run, string folder, string pattern)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (Directory.Exists(folder) && Directory.GetFiles(folder, pattern) is [var found, ..]) return found;
            if (run.HasExited)
                throw new InvalidOperationException($"coca exited ({run.ExitCode}) before writing {pattern}: {run.StandardError.ReadToEnd()}");
            Thread.Sleep(20);
        }
        throw new TimeoutException($"No {pattern} in '{folder}' after 2 minutes.");
    }

    /// <summary>Kills the run (SIGKILL: no clean-up code of its own runs) and waits for it to be gone.</summary>
    public static void Kill(Process run)
    {
        run.Kill(entireProcessTree: true);
        run.WaitForExit();
    }

    /// <summary>Sends the run <paramref name="signal"/> (2: SIGINT, as Ctrl+C; 15: SIGTERM) and leaves it to end itself.</summary>
    public static void Signal(Process run, int signal)
    {
        if (kill(run.Id, signal) != 0)
            throw new IOException($"kill {signal} {run.Id} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

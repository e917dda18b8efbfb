using System.Runtime.InteropServices;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli;

/// <summary>
/// What Ctrl+C (SIGINT) and SIGTERM (<c>docker stop</c>, a scheduler) do to a coca run. A command that can stop at a
/// safe point (finetune: after the step under way, its checkpoints kept) asks for that with <see cref="StopGracefully"/>,
/// and the first Ctrl+C cancels its token. Otherwise, or at a second Ctrl+C, the run ends at once with the signal's exit
/// code (130, 143) after deleting the unfinished output files it was writing (their final names keep what they held) and
/// saying so in one line: the alternative, the runtime's default, left hidden temporary files and said nothing.
/// </summary>
internal static class Interruption
{
    private static readonly object Gate = new();
    private static (CancellationTokenSource Source, string Message)? _graceful;

    /// <summary>Watches for the signals while a command runs.</summary>
    public static IDisposable Watch() => new Registrations(
        PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));

    /// <summary>
    /// Until disposed, the first Ctrl+C or SIGTERM cancels <paramref name="source"/> and prints <paramref name="message"/>
    /// instead of ending the process; the next one ends it.
    /// </summary>
    public static IDisposable StopGracefully(CancellationTokenSource source, string message)
    {
        lock (Gate) _graceful = (source, message);
        return new Callback(() => { lock (Gate) _graceful = null; });
    }

    private static void OnSignal(PosixSignalContext context)
    {
        lock (Gate)
        {
            if (_graceful is { } graceful && !graceful.Source.IsCancellationRequested)
            {
                context.Cancel = true;   // the command stops itself at its next safe point
                Console.Error.WriteLine(graceful.Message);
                graceful.Source.Cancel();
                return;
            }
        }
        // The process ends when this returns (context.Cancel stays false): the runtime's default for the signal.
        var abandoned = AtomicFile.AbandonAllInProcess();
        var what = context.Signal == PosixSignal.SIGTERM ? "terminated" : "interrupted";
        Console.Error.WriteLine(abandoned.Count switch
        {
            0 => $"coca: {what}.",
            1 => $"coca: {what}; '{abandoned[0]}' was not written (its unfinished copy is deleted; a file already there is unchanged).",
            _ => $"coca: {what}; {abandoned.Count} files ('{abandoned[0]}', ...) were not written (their unfinished copies are deleted; files already there are unchanged).",
        });
    }

    private sealed class Registrations(params IDisposable[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    private sealed class Callback(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

using System.Diagnostics;

namespace CoCa.MLNet.Demo;

/// <summary>
/// A one-line progress bar with the rate, on standard output or standard error (<c>coca featurize</c> draws on stderr, so
/// its stdout stays the result). On a terminal the line is redrawn in place (at most every 0.2 s); when the stream is
/// redirected (a log, CI, a notebook) a plain line is written at most every 5 s, and when the count reaches the total.
/// </summary>
public sealed class ConsoleProgress : IDisposable
{
    private const int Width = 30;
    private readonly string _label;
    private readonly int _total;
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _done;
    private string _detail = "";
    private long _lastReportMs = -10_000;
    private int _longestLine;
    private bool _lineOpen;

    /// <param name="label">What is counted, written before the bar.</param>
    /// <param name="total">The count when done.</param>
    /// <param name="writer">
    /// <see cref="Console.Out"/> (the default) or <see cref="Console.Error"/>: the bar redraws in place when that stream
    /// is a terminal. Any other writer gets plain lines.
    /// </param>
    public ConsoleProgress(string label, int total, TextWriter? writer = null)
    {
        _label = label;
        _total = total;
        _writer = writer ?? Console.Out;
        _interactive = ReferenceEquals(_writer, Console.Error) ? !Console.IsErrorRedirected
            : ReferenceEquals(_writer, Console.Out) && !Console.IsOutputRedirected;
    }

    /// <summary>Counts <paramref name="count"/> more done.</summary>
    public void Advance(int count) => Draw(_done + count);

    /// <summary>Sets how many are done, with an optional note written after the counts (e.g. the last epoch's loss).</summary>
    public void Report(int done, string? detail = null)
    {
        _detail = detail ?? _detail;
        Draw(done);
    }

    /// <summary>Ends the bar's line, so that a message written next starts on a line of its own.</summary>
    public void Interrupt()
    {
        if (_lineOpen) _writer.WriteLine();
        _lineOpen = false;
    }

    /// <summary>Ends the bar (its line, on a terminal).</summary>
    public void Done() => Interrupt();

    /// <inheritdoc cref="Done"/>
    public void Dispose() => Done();

    private void Draw(int done)
    {
        _done = done;
        if (_clock.ElapsedMilliseconds - _lastReportMs < (_interactive ? 200 : 5000) && _done < _total) return;
        _lastReportMs = _clock.ElapsedMilliseconds;
        var rate = _done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        int filled = _total == 0 ? Width : (int)Math.Clamp(Width * (long)_done / _total, 0, Width);
        var line = $"{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {_done}/{_total} {rate:F1}/s{(_detail.Length > 0 ? " " + _detail : "")}";
        if (_interactive)
        {
            // Padded to the longest line drawn, so that a shorter one (a narrower rate or note) leaves nothing behind.
            _writer.Write("\r" + line.PadRight(_longestLine));
            _longestLine = Math.Max(_longestLine, line.Length);
        }
        else _writer.WriteLine(line);
        _lineOpen = _interactive;
    }
}

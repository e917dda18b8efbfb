using System.Diagnostics;

namespace CoCa.MLNet.Cli;

/// <summary>A one-line progress bar on stderr (plain lines when stderr is not a terminal).</summary>
internal sealed class ConsoleProgress
{
    private readonly string _label;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private int _done;
    private long _lastReportMs = -10_000;
    private bool _lineOpen;

    public ConsoleProgress(string label, int total)
    {
        _label = label;
        _total = total;
    }

    public void Advance(int count)
    {
        _done += count;
        if (_clock.ElapsedMilliseconds - _lastReportMs < (_interactive ? 200 : 5000) && _done < _total) return;
        _lastReportMs = _clock.ElapsedMilliseconds;
        var rate = _done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        int width = 30, filled = _total == 0 ? width : (int)(width * (long)_done / _total);
        var line = $"{_label} [{new string('#', filled)}{new string('.', width - filled)}] {_done}/{_total} {rate:F1}/s";
        if (_interactive) Console.Error.Write("\r" + line);
        else Console.Error.WriteLine(line);
        _lineOpen = _interactive;
    }

    /// <summary>Ends the bar's line, so that a message written next starts on a line of its own.</summary>
    public void Interrupt()
    {
        if (_lineOpen) Console.Error.WriteLine();
        _lineOpen = false;
    }

    public void Done() => Interrupt();
}

using System.Diagnostics;

namespace CoCa.MLNet.Samples;

/// <summary>
/// A one-line progress bar with elapsed time and an estimate of what is left. When the output is redirected (a log,
/// CI) it prints a plain line at every quarter instead of redrawing.
/// </summary>
public sealed class ConsoleProgressBar : IDisposable
{
    private const int Width = 30;
    private readonly string _label;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _redraw = !Console.IsOutputRedirected;
    private int _done;
    private int _lastQuarter = -1;
    private string _detail = "";

    public ConsoleProgressBar(string label, int total)
    {
        _label = label;
        _total = Math.Max(1, total);
        Draw();
    }

    /// <summary>Sets how many of the total are done, with an optional note (e.g. the last epoch's loss).</summary>
    public void Report(int done, string? detail = null)
    {
        _done = Math.Clamp(done, 0, _total);
        _detail = detail ?? _detail;
        Draw();
    }

    public void Dispose()
    {
        if (_redraw) Console.WriteLine();
        else if (_lastQuarter < 4) { _lastQuarter = 3; _done = _total; Draw(); }
    }

    private void Draw()
    {
        double fraction = (double)_done / _total;
        var elapsed = _clock.Elapsed;
        string eta = _done == 0 || _done == _total ? "" : $", ~{TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction):m\\:ss} left";
        string counts = $"{_done}/{_total} [{elapsed:m\\:ss}{eta}]{(_detail.Length > 0 ? " " + _detail : "")}";
        if (_redraw)
        {
            int filled = (int)Math.Round(fraction * Width);
            string line = $"\r{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {counts}";
            Console.Write(line.PadRight(Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 120, Math.Max(line.Length, 100))));
            return;
        }
        int quarter = (int)Math.Floor(fraction * 4);
        if (quarter == _lastQuarter) return;
        _lastQuarter = quarter;
        Console.WriteLine($"{_label}: {fraction:P0} {counts}");
    }
}

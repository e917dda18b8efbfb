using System.Text;
using Xunit.Abstractions;

namespace CoCa.MLNet.Notebooks.Tests.Support;

/// <summary>A TextWriter that hands each complete line to xunit's test output (which takes whole lines only).</summary>
public sealed class TestOutputWriter(ITestOutputHelper output) : TextWriter
{
    private readonly StringBuilder _line = new();
    private readonly object _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value == '\n') Flush();
            else if (value != '\r') _line.Append(value);
        }
    }

    public override void Flush()
    {
        lock (_gate)
        {
            if (_line.Length == 0) return;
            try { output.WriteLine(_line.ToString()); }
            catch (InvalidOperationException) { }   // the test already finished; nothing to report to
            _line.Clear();
        }
    }
}

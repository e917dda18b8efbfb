using System.Collections;
using System.Text;

namespace CoCa.MLNet.Notebooks.Tests.Runner;

/// <summary>Something a cell showed: a <c>display(...)</c>, an update of one, or the cell's trailing expression.</summary>
public sealed record NotebookOutput(int CellIndex, string Kind, string MimeType, string Text);

/// <summary>An HTML fragment to display (what .NET Interactive's <c>HTML("...")</c> returns).</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;
    public override string ToString() => Html;
}

/// <summary>A displayed value that later code can replace, as in .NET Interactive (e.g. a progress line).</summary>
public sealed class DisplayedValue
{
    private readonly NotebookKernel _kernel;

    internal DisplayedValue(NotebookKernel kernel) => _kernel = kernel;

    public void Update(object? value) => _kernel.Record("update", value);
}

/// <summary>
/// The script globals: the helpers that .NET Interactive's C# kernel puts in scope (<c>using static
/// Microsoft.DotNet.Interactive.Kernel</c>), so notebook code calls them unqualified. Output is recorded as text (HTML
/// as its markup), for the test log and for assertions.
/// </summary>
public sealed class NotebookKernel
{
    private readonly List<NotebookOutput> _outputs = [];
    private readonly TextWriter _log;

    public NotebookKernel(TextWriter log) => _log = log;

    /// <summary>The kernel executing right now; <c>x.Display()</c> reports here (notebooks run one at a time).</summary>
    internal static NotebookKernel? Current { get; set; }

    internal int CellIndex { get; set; }

    public IReadOnlyList<NotebookOutput> Outputs => _outputs;

    // Lower-case names on purpose: they are .NET Interactive's names.
#pragma warning disable IDE1006
    public DisplayedValue display(object? value, params string[] mimeTypes)
    {
        Record("display", value, mimeTypes.FirstOrDefault());
        return new DisplayedValue(this);
    }
#pragma warning restore IDE1006

    public HtmlString HTML(string html) => new(html);

    internal void Record(string kind, object? value, string? mimeType = null)
    {
        var (mime, text) = Render(value, mimeType);
        _outputs.Add(new NotebookOutput(CellIndex, kind, mime, text));
        _log.WriteLine(mime == "text/html"
            ? $"[cell {CellIndex} {kind}] text/html, {text.Length} characters{(text.Contains("<svg", StringComparison.Ordinal) ? " (SVG)" : "")}"
            : $"[cell {CellIndex} {kind}] {text}");
    }

    internal static (string MimeType, string Text) Render(object? value, string? mimeType) => value switch
    {
        null => ("text/plain", "<null>"),
        HtmlString html => ("text/html", html.Html),
        string s => (mimeType ?? "text/plain", s),
        IEnumerable items => (mimeType ?? "text/plain", RenderItems(items)),
        _ => (mimeType ?? "text/plain", value.ToString() ?? ""),
    };

    private static string RenderItems(IEnumerable items)
    {
        var sb = new StringBuilder();
        int n = 0;
        foreach (var item in items)
        {
            if (n++ == 20) { sb.AppendLine("…"); break; }
            sb.AppendLine(item?.ToString() ?? "<null>");
        }
        return sb.ToString().TrimEnd();
    }
}

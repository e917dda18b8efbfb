using System.Text;

namespace CoCa.MLNet.GpuCheck;

/// <summary>gpu-report.md, echoed to the console line by line as it is written.</summary>
internal sealed class Report(string path)
{
    private readonly StringBuilder _text = new();

    public string Path { get; } = path;

    public void Title(string title) => Add($"# {title}\n");

    public void Section(string title) => Add($"\n## {title}\n");

    public void Line(string line) => Add(line);

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        Add("");
        Add($"| {string.Join(" | ", header)} |");
        Add($"| {string.Join(" | ", header.Select((_, i) => i == 0 ? "---" : "---:"))} |");
        foreach (var row in rows) Add($"| {string.Join(" | ", row)} |");
    }

    /// <summary>Written under a temporary name and renamed, so a killed run leaves no half report.</summary>
    public void Save()
    {
        var tmp = Path + ".tmp";
        File.WriteAllText(tmp, _text.ToString());
        File.Move(tmp, Path, overwrite: true);
    }

    private void Add(string line)
    {
        _text.AppendLine(line);
        Console.WriteLine(line);
    }
}

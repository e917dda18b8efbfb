using System.Text.Json;

namespace CoCa.MLNet.Notebooks.Tests.Runner;

/// <summary>One cell of an .ipynb file. <see cref="Index"/> is the cell's position among all cells (0-based).</summary>
public sealed record NotebookCell(int Index, string CellType, string Source, string? KernelName)
{
    public bool IsCode => CellType == "code";

    /// <summary>The first non-blank line, to name the cell in messages.</summary>
    public string FirstLine => Source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(empty)";
}

/// <summary>
/// A .NET Interactive notebook read from its .ipynb JSON (nbformat 4). Loading checks what a user's Jupyter or
/// VS Code needs to open it with the C# kernel: the <c>.net-csharp</c> kernelspec, the polyglot_notebook default
/// kernel <c>csharp</c>, and that every code cell runs in that kernel.
/// </summary>
public sealed class Notebook
{
    public const string KernelSpecName = ".net-csharp";
    public const string CSharpKernelName = "csharp";

    private Notebook(string path, IReadOnlyList<NotebookCell> cells)
    {
        Path = path;
        Cells = cells;
    }

    public string Path { get; }
    public string Name => System.IO.Path.GetFileName(Path);
    public IReadOnlyList<NotebookCell> Cells { get; }
    public IEnumerable<NotebookCell> CodeCells => Cells.Where(c => c.IsCode);

    public static Notebook Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Notebook '{full}' does not exist.", full);
        string name = System.IO.Path.GetFileName(full);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(full));
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException($"{name}: not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("nbformat", out var nbformat) || nbformat.ValueKind != JsonValueKind.Number || nbformat.GetInt32() != 4)
                throw new NotebookFormatException($"{name}: expected \"nbformat\": 4 (Jupyter notebook format 4).");
            CheckKernelMetadata(name, root);

            if (!root.TryGetProperty("cells", out var cellsElement) || cellsElement.ValueKind != JsonValueKind.Array)
                throw new NotebookFormatException($"{name}: no \"cells\" array.");
            var cells = new List<NotebookCell>();
            int index = 0;
            foreach (var cell in cellsElement.EnumerateArray())
            {
                string type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() ?? "" : "";
                if (type is not ("code" or "markdown" or "raw"))
                    throw new NotebookFormatException($"{name} cell {index}: unknown cell_type '{type}'.");
                string source = ReadSource(cell, name, index);
                string? kernel = type == "code" ? CellKernel(cell) : null;
                if (type == "code" && kernel is not null && kernel != CSharpKernelName)
                    throw new NotebookFormatException($"{name} cell {index}: runs in kernel '{kernel}'; these notebooks are C# only (kernelName \"{CSharpKernelName}\").");
                cells.Add(new NotebookCell(index, type, source, kernel ?? (type == "code" ? CSharpKernelName : null)));
                index++;
            }
            return new Notebook(full, cells);
        }
    }

    private static void CheckKernelMetadata(string name, JsonElement root)
    {
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
            throw new NotebookFormatException($"{name}: no notebook \"metadata\".");
        string? specName = metadata.TryGetProperty("kernelspec", out var spec) && spec.TryGetProperty("name", out var n) ? n.GetString() : null;
        if (specName != KernelSpecName)
            throw new NotebookFormatException($"{name}: metadata.kernelspec.name is '{specName ?? "(missing)"}'; expected '{KernelSpecName}' (.NET Interactive C#).");
        string? defaultKernel = metadata.TryGetProperty("polyglot_notebook", out var polyglot)
            && polyglot.TryGetProperty("kernelInfo", out var info)
            && info.TryGetProperty("defaultKernelName", out var dk) ? dk.GetString() : null;
        if (defaultKernel != CSharpKernelName)
            throw new NotebookFormatException($"{name}: metadata.polyglot_notebook.kernelInfo.defaultKernelName is '{defaultKernel ?? "(missing)"}'; expected '{CSharpKernelName}'.");
    }

    /// <summary>The cell's kernel per polyglot_notebook (or the legacy dotnet_interactive key); null when not stated.</summary>
    private static string? CellKernel(JsonElement cell)
    {
        if (!cell.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object) return null;
        if (metadata.TryGetProperty("polyglot_notebook", out var p) && p.TryGetProperty("kernelName", out var k)) return k.GetString();
        if (metadata.TryGetProperty("dotnet_interactive", out var d) && d.TryGetProperty("language", out var l)) return l.GetString();
        return null;
    }

    /// <summary>nbformat stores source as one string or as a list of lines (each keeping its "\n").</summary>
    private static string ReadSource(JsonElement cell, string name, int index)
    {
        if (!cell.TryGetProperty("source", out var source)) return "";
        return source.ValueKind switch
        {
            JsonValueKind.String => source.GetString() ?? "",
            JsonValueKind.Array => string.Concat(source.EnumerateArray().Select(l => l.GetString())),
            _ => throw new NotebookFormatException($"{name} cell {index}: \"source\" must be a string or a list of strings."),
        };
    }
}

/// <summary>The .ipynb file is not a .NET Interactive C# notebook this runner can execute.</summary>
public sealed class NotebookFormatException(string message, Exception? inner = null) : Exception(message, inner);

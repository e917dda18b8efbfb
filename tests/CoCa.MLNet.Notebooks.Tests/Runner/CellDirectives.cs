using System.Text.RegularExpressions;

namespace CoCa.MLNet.Notebooks.Tests.Runner;

/// <summary>A .NET Interactive directive found on its own line in a code cell.</summary>
public abstract record CellDirective(int Line, string Text);

/// <summary><c>#r "nuget: Id, Version"</c> (version optional).</summary>
public sealed record PackageReferenceDirective(int Line, string Text, string PackageId, string? Version) : CellDirective(Line, Text);

/// <summary><c>#i "nuget: source"</c>: a package source (URL or folder).</summary>
public sealed record PackageSourceDirective(int Line, string Text, string Source) : CellDirective(Line, Text);

/// <summary><c>#!name args</c>: a magic command.</summary>
public sealed record MagicCommandDirective(int Line, string Text, string Name) : CellDirective(Line, Text);

/// <summary>
/// Splits a cell into its directives and its C# code. Directive lines become blank lines in the code, so the line
/// numbers of compiler diagnostics still match the cell. Malformed directives fail with the line that is wrong.
/// </summary>
public static partial class CellDirectives
{
    [GeneratedRegex("""^#r\s+"nuget:\s*(?<id>[A-Za-z0-9_.\-]+)\s*(,\s*(?<version>[^"\s]+)\s*)?"\s*$""")]
    private static partial Regex PackageReference();

    [GeneratedRegex("""^#i\s+"nuget:\s*(?<source>[^"]+?)\s*"\s*$""")]
    private static partial Regex PackageSource();

    [GeneratedRegex("""^#!(?<name>[^\s]+)""")]
    private static partial Regex Magic();

    public static (IReadOnlyList<CellDirective> Directives, string Code) Parse(string source, string where)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var directives = new List<CellDirective>();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            CellDirective? directive = null;
            if (line.StartsWith("#r ", StringComparison.Ordinal) || line.StartsWith("#r\t", StringComparison.Ordinal))
            {
                var m = PackageReference().Match(line);
                directive = m.Success
                    ? new PackageReferenceDirective(i + 1, line, m.Groups["id"].Value, m.Groups["version"].Success ? m.Groups["version"].Value : null)
                    : throw new NotebookDirectiveException($"{where} line {i + 1}: '{line}' — the runner resolves only package references, #r \"nuget: Id, Version\" (notebooks reference packages as a user would, not DLL paths).");
            }
            else if (line.StartsWith("#i ", StringComparison.Ordinal) || line.StartsWith("#i\t", StringComparison.Ordinal))
            {
                var m = PackageSource().Match(line);
                directive = m.Success
                    ? new PackageSourceDirective(i + 1, line, m.Groups["source"].Value)
                    : throw new NotebookDirectiveException($"{where} line {i + 1}: '{line}' — expected #i \"nuget: <package source>\".");
            }
            else if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                directive = new MagicCommandDirective(i + 1, line, Magic().Match(line).Groups["name"].Value);
            }
            if (directive is null) continue;
            directives.Add(directive);
            lines[i] = "";
        }
        return (directives, string.Join('\n', lines));
    }
}

/// <summary>A directive the runner cannot honour the way a user's .NET Interactive kernel would.</summary>
public sealed class NotebookDirectiveException(string message) : Exception(message);

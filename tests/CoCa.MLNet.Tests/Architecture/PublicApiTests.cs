using System.Reflection;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Tests.Architecture;

/// <summary>
/// The public surface of the two libraries is a checked-in list (Architecture/PublicApi.txt): a type that becomes
/// public, or stops being public, fails here until the list says so, so the surface only grows on purpose.
/// </summary>
public class PublicApiTests
{
    private static readonly string ListPath = Path.Combine(AppContext.BaseDirectory, "Architecture", "PublicApi.txt");

    [Fact]
    public void ExportedTypes_EqualTheCheckedInList()
    {
        var expected = ReadList(File.ReadAllLines(ListPath));
        foreach (var assembly in PublicMembersTests.Libraries)
        {
            string name = assembly.GetName().Name!;
            var actual = Exported(assembly);
            var listed = expected.TryGetValue(name, out var l) ? l : [];
            var added = actual.Except(listed).Order(StringComparer.Ordinal).ToList();
            var removed = listed.Except(actual).Order(StringComparer.Ordinal).ToList();
            Assert.True(added.Count == 0 && removed.Count == 0,
                $"{name}'s public types differ from tests/CoCa.MLNet.Tests/Architecture/PublicApi.txt" +
                (added.Count > 0 ? $"\n  public but not listed (make it internal, or list it on purpose):\n    {string.Join("\n    ", added)}" : "") +
                (removed.Count > 0 ? $"\n  listed but not public (remove it from the list):\n    {string.Join("\n    ", removed)}" : ""));
        }
    }

    [Fact]
    public void Check_SeesATypeMissingFromTheList()
    {
        var list = ReadList(["[CoCa.MLNet]", "Microsoft.ML.CoCaImageFeaturizerCatalog"]);
        var actual = Exported(typeof(CoCaConverter).Assembly);
        Assert.Contains("CoCa.MLNet.Conversion.CoCaConverter", actual.Except(list["CoCa.MLNet"]));
    }

    internal static HashSet<string> Exported(Assembly assembly) =>
        assembly.GetExportedTypes().Select(t => t.FullName!).ToHashSet(StringComparer.Ordinal);

    /// <summary>Sections "[Assembly]" followed by full type names; '#' starts a comment line.</summary>
    internal static Dictionary<string, HashSet<string>> ReadList(IEnumerable<string> lines)
    {
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string>? current = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('[') && line.EndsWith(']')) result[line[1..^1]] = current = new(StringComparer.Ordinal);
            else (current ?? throw new InvalidDataException($"PublicApi.txt: '{line}' comes before any [Assembly] section.")).Add(line);
        }
        return result;
    }
}

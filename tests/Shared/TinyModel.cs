using CoCa.MLNet.Conversion;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>The fixture's tiny open_clip CoCa converted once per test run (into a temp folder).</summary>
public static class TinyModel
{
    private static readonly Lazy<string> Converted = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "coca-mlnet-tests", "tiny-" + Environment.ProcessId);
        CoCaConverter.Convert(Fixtures.TinyCoCa, dir);
        return dir;
    });

    /// <summary>A converted model folder of ../shared/fixtures/open_clip_coca_tiny.</summary>
    public static string Directory => Converted.Value;

    public static string[] ImagePaths()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Fixtures.Tiny("reference.json")));
        return doc.RootElement.GetProperty("images").EnumerateArray().Select(e => Fixtures.Tiny(Path.Combine("images", e.GetString()!))).ToArray();
    }
}

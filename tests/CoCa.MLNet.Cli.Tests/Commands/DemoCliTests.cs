using System.Globalization;
using System.Text.RegularExpressions;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Text;
using Xunit.Abstractions;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// <c>coca demo</c> as a user runs it: it trains a tiny CoCa from scratch, and on held-out pictures its zero-shot
/// classification, retrieval, captions and attentional pooler are far above chance.
/// </summary>
public sealed partial class DemoCliTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-demo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Demo_TrainsATinyCoCa_AndItsNumbersAreFarAboveChance()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = CliProcess.RunFor(TimeSpan.FromMinutes(20), "demo", "--work", _dir);
        output.WriteLine(run.StdOut);
        output.WriteLine(run.StdErr);
        output.WriteLine($"demo took {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        int epochs = new TinyCoCaRecipe().Epochs;
        Assert.Contains($"epoch {epochs,2}/{epochs}: loss", run.StdOut);    // trained, with progress per epoch
        Assert.Contains("reloaded features identical: True", run.StdOut);
        Assert.Contains("reloaded predictions identical: True", run.StdOut);

        var results = SummaryLine().Matches(run.StdOut.Split("Summary, on held-out pictures")[^1])
            .ToDictionary(m => m.Groups["what"].Value.Trim(), m => (Value: Percent(m.Groups["value"]), Chance: Percent(m.Groups["chance"])));
        output.WriteLine(string.Join("\n", results.Select(r => $"{r.Key}: {r.Value.Value:P1} vs chance {r.Value.Chance:P1}")));

        void AtLeast(string what, double minimum, double chance)
        {
            Assert.True(results.TryGetValue(what, out var r), $"the demo's summary has no '{what}' line");
            Assert.Equal(chance, r.Chance, 3);
            Assert.True(r.Value >= minimum, $"{what}: {r.Value:P1}, expected at least {minimum:P0} (chance {chance:P1})");
        }
        AtLeast("zero-shot colour", 0.6, 0.25);
                AtLeast("image→text recall@5", 0.3, 5.0 / 64);
        AtLeast("captions naming the right colour", 0.6, 0.25);
        AtLeast("captions exactly right", 0.05, 1.0 / 64);
        AtLeast("attentional pooler (place)", 0.6, 0.25);
        Assert.True(results["text→image recall@5"].Value >= 3 * results["text→image recall@5"].Chance, "text→image recall@5 not far above chance");
    }

    [Fact]
    public void CaptionVocabulary_MakesEachCaptionWordOneToken_AndKeepsClipsSpecialIds()
    {
        var path = CaptionVocabulary.Write(Path.Combine(_dir, "vocab"), TinyCoCa.Words);
        var tokenizer = ClipTokenizer.FromFile(path);
        Assert.Equal(49408, tokenizer.VocabularySize);
        Assert.Equal(6, tokenizer.EncodeToIds("a yellow triangle at the bottom").Count);
        var ids = tokenizer.Encode("a red circle on the left", TinyCoCa.ContextLength);
        Assert.Equal([ClipTokenizer.StartOfTextId, .. tokenizer.EncodeToIds("a red circle on the left"), ClipTokenizer.EndOfTextId], ids.Select(i => (int)i));
        Assert.Equal("a red circle on the left", tokenizer.DecodeCaption(ids));
        Assert.Equal("purple", tokenizer.DecodeCaption(tokenizer.Encode("purple", 16)));   // other words: one token per byte
        Assert.Equal(6, tokenizer.EncodeToIds("purple").Count);
    }

    private static double Percent(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture) / 100;

    [GeneratedRegex(@"^\s+(?<what>[^:\n]+): (?<value>[0-9.]+) % \(chance (?<chance>[0-9.]+) %\)", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();
}

using System.Text.Json;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// tests/CoCa.MLNet.Tests/Evaluation/Data/caption-metrics-reference.json (copied to the output's Evaluation/Data):
/// pycocoevalcap's scores (Bleu(4), Rouge(), Cider()) and its PTBTokenizer's output for the cases in
/// caption-metrics-cases.json (see make_caption_metrics_reference.py).
/// </summary>
internal static class CaptionMetricsReference
{
    public sealed record Image(string Id, string Candidate, string[] References, string CandidateTokenized, string[] ReferencesTokenized, Dictionary<string, double> Scores);

    public sealed record Set(string Name, Image[] Images, Dictionary<string, double> Scores)
    {
        public Dictionary<string, IReadOnlyList<string>> References() =>
            Images.ToDictionary(i => i.Id, i => (IReadOnlyList<string>)i.References);

        public Dictionary<string, string> Candidates() => Images.ToDictionary(i => i.Id, i => i.Candidate);
    }

    public static readonly string[] MetricNames = ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"];

    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Evaluation", "Data", "caption-metrics-reference.json"))).RootElement);

    public static IEnumerable<string> SetNames() => Root.Value.GetProperty("sets").EnumerateArray().Select(s => s.GetProperty("name").GetString()!);

    public static Set Get(string name)
    {
        var s = Root.Value.GetProperty("sets").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var images = s.GetProperty("images").EnumerateArray().Select(i => new Image(
            i.GetProperty("id").GetString()!,
            i.GetProperty("candidate").GetString()!,
            Strings(i.GetProperty("references")),
            i.GetProperty("candidate_tokenized").GetString()!,
            Strings(i.GetProperty("references_tokenized")),
            Scores(i.GetProperty("scores")))).ToArray();
        return new Set(name, images, Scores(s.GetProperty("scores")));
    }

    /// <summary>(caption, pycocoevalcap's tokenization) of each tokenizer case.</summary>
    public static IEnumerable<(string Caption, string Tokenized)> TokenizerCases() =>
        Root.Value.GetProperty("tokenizer").EnumerateArray().Select(t => (t.GetProperty("caption").GetString()!, t.GetProperty("tokenized").GetString()!));

    /// <summary>Within <paramref name="relative"/> of <paramref name="expected"/> (exact zeros stay zero up to 1e-12).</summary>
    public static bool Close(double expected, double actual, double relative = 1e-6) =>
        Math.Abs(actual - expected) <= relative * Math.Max(Math.Abs(expected), 1e-12 / relative);

    private static string[] Strings(JsonElement a) => a.EnumerateArray().Select(x => x.GetString()!).ToArray();

    private static Dictionary<string, double> Scores(JsonElement o) => o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
}

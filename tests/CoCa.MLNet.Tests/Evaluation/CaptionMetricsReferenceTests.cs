using CoCa.MLNet.Evaluation;

namespace CoCa.MLNet.Tests.Evaluation;

/// <summary>
/// BLEU-1..4, ROUGE-L, CIDEr-D and the PTB tokenization equal pycocoevalcap's own outputs (its Python scorers and its
/// PTBTokenizer, Stanford CoreNLP 3.4.1) within 1e-6 relative, corpus and per image, on the sets of
/// Evaluation/Data/caption-metrics-reference.json.
/// </summary>
public class CaptionMetricsReferenceTests
{
    public static TheoryData<string> Sets() => new(CaptionMetricsReference.SetNames());

    [Theory]
    [MemberData(nameof(Sets))]
    public void ScoresEqualPycocoevalcaps(string name)
    {
        var set = CaptionMetricsReference.Get(name);
        var scores = CaptionMetrics.Compute(set.References(), set.Candidates());

        Assert.Equal(set.Images.Length, scores.Images);
        Assert.Equal(set.Images.Sum(i => i.References.Length), scores.References);
        var ours = scores.ByName();
        foreach (var metric in CaptionMetricsReference.MetricNames)
            Assert.True(CaptionMetricsReference.Close(set.Scores[metric], ours[metric]), $"{name} {metric}: pycocoevalcap {set.Scores[metric]:R}, ours {ours[metric]:R}");
        foreach (var image in set.Images)
        {
            var mine = scores.PerImage[image.Id];
            double[] actual = [mine.Bleu1, mine.Bleu2, mine.Bleu3, mine.Bleu4, mine.RougeL, mine.Cider];
            for (int m = 0; m < actual.Length; m++)
            {
                var metric = CaptionMetricsReference.MetricNames[m];
                Assert.True(CaptionMetricsReference.Close(image.Scores[metric], actual[m]),
                    $"{name} image {image.Id} {metric}: pycocoevalcap {image.Scores[metric]:R}, ours {actual[m]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void CaptionsTokenizeAsPycocoevalcapsPtbTokenizer(string name)
    {
        var set = CaptionMetricsReference.Get(name);
        var differences = set.Images
            .SelectMany(i => i.References.Zip(i.ReferencesTokenized).Append((i.Candidate, i.CandidateTokenized)))
            .Select(p => (Caption: p.Item1, Expected: p.Item2, Actual: CaptionMetrics.Tokenize(p.Item1)))
            .Where(p => p.Expected != p.Actual)
            .Select(p => $"'{p.Caption}': PTB '{p.Expected}', ours '{p.Actual}'")
            .ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void TokenizerEqualsStanfordPtbTokenizerOnEveryCase()
    {
        // Quotes, contractions, brackets (kept as -lrb-: pycocoevalcap's list has them upper-case), "?!" runs, abbreviations,
        // acronyms, numbers, fractions, currency, URLs, e-mail, hashtags, smileys, dashes, unicode letters, emoji (dropped).
        var cases = CaptionMetricsReference.TokenizerCases().ToList();
        Assert.True(cases.Count >= 470); // 72 written by hand, 400 seeded random punctuation-heavy ones
        var differences = cases
            .Select(c => (c.Caption, c.Tokenized, Actual: CaptionMetrics.Tokenize(c.Caption)))
            .Where(c => c.Tokenized != c.Actual)
            .Select(c => $"'{c.Caption}': PTB '{c.Tokenized}', ours '{c.Actual}'")
            .ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}

using CoCa.MLNet.Evaluation;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Evaluation;

/// <summary>What a caller of <see cref="CaptionMetrics"/> relies on besides the numbers: its refusals, its overloads, its tokenizer.</summary>
public class CaptionMetricsTests
{
    private static readonly Dictionary<string, IReadOnlyList<string>> References = new()
    {
        ["1"] = ["A cat sits on a mat.", "The cat is on the mat."],
        ["2"] = ["A dog runs in a park.", "A brown dog is running."],
        ["3"] = ["Two birds fly over the sea.", "Birds in the sky."],
    };

    private static readonly Dictionary<string, string> Candidates = new() { ["1"] = "A cat on a mat.", ["2"] = "A dog running.", ["3"] = "Two birds." };

    [Fact]
    public void NumericImageIdsMatchByValue_NotBySpelling()
    {
        var dir = Directory.CreateTempSubdirectory("coca-caption-ids-");
        try
        {
            var references = Path.Combine(dir.FullName, "captions.json");
            File.WriteAllText(references, "{\"annotations\": [{\"image_id\": 2, \"caption\": \"a cat\"}, {\"image_id\": 1000, \"caption\": \"a dog\"}, {\"image_id\": 0.5, \"caption\": \"a cow\"}]}");
            var results = Path.Combine(dir.FullName, "results.json");
            File.WriteAllText(results, "[{\"image_id\": 2.0, \"caption\": \"a cat\"}, {\"image_id\": 1e3, \"caption\": \"a dog\"}, {\"image_id\": 0.50, \"caption\": \"a cow\"}]");
            var (refs, candidates) = CaptionFiles.Read(references, results);
            Assert.Equal(["0.5", "1000", "2"], refs.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(refs.Keys.Order(StringComparer.Ordinal), candidates.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("a dog", candidates["1000"]);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ImagesOnOneSideOnlyAreRefusedByName()
    {
        var candidates = new Dictionary<string, string>(Candidates) { ["9"] = "a fish" };
        candidates.Remove("3");
        var e = Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(References, candidates));
        Assert.Contains("1 image(s) have candidate captions but no references ('9')", e.Message);
        Assert.Contains("1 image(s) have references but no candidate captions ('3')", e.Message);
    }

    [Fact]
    public void AnImageWithoutReferencesOrNoImagesAtAllIsRefused()
    {
        var references = new Dictionary<string, IReadOnlyList<string>>(References) { ["3"] = [] };
        Assert.Contains("Image '3' has no reference captions", Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(references, Candidates)).Message);
        Assert.Contains("no images to score", Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(new Dictionary<string, IReadOnlyList<string>>(), new Dictionary<string, string>())).Message);
    }

    [Fact]
    public void DataViewRowsScoreAsTheDictionariesDo()
    {
        var ml = new MLContext(seed: 0);
        var rows = Candidates.Keys.Select(id => new Row { Caption = Candidates[id], References = [.. References[id]] }).ToList();
        var fromView = CaptionMetrics.Compute(ml.Data.LoadFromEnumerable(rows));
        var expected = CaptionMetrics.Compute(References, Candidates);
        Assert.Equal(expected.ByName(), fromView.ByName());
        Assert.Equal(["0", "1", "2"], fromView.PerImage.Keys.Order());
        Assert.Equal(expected.PerImage["2"], fromView.PerImage["1"]);
    }

    [Fact]
    public void DataViewWithoutTheColumnNamesTheColumnsItHas()
    {
        var ml = new MLContext(seed: 0);
        var view = ml.Data.LoadFromEnumerable([new Row { Caption = "a cat", References = ["a cat"] }]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CaptionMetrics.Compute(view, referencesColumnName: "Refs"));
        Assert.Contains("Column 'Refs' not found (columns: Caption, References)", e.Message);
    }

    [Fact]
    public void PerImageScoresAverageToTheCorpusRougeAndCider()
    {
        var scores = CaptionMetrics.Compute(References, Candidates);
        Assert.Equal(3, scores.Images);
        Assert.Equal(6, scores.References);
        Assert.Equal(scores.PerImage.Values.Average(s => s.RougeL), scores.RougeL, 12);
        Assert.Equal(scores.PerImage.Values.Average(s => s.Cider), scores.Cider, 12);
        Assert.True(scores.Cider > 0);
    }

    [Fact]
    public void CiderOfASingleImageIsZeroForAnyCaption_AndSaidNotMeasured()
    {
        var one = new Dictionary<string, IReadOnlyList<string>> { ["1"] = References["1"] };
        var exact = CaptionMetrics.Compute(one, new Dictionary<string, string> { ["1"] = References["1"][0] });
        Assert.Equal((0.0, false), (exact.Cider, exact.CiderIsMeasured));   // pycocoevalcap's 0, but not a measure
        Assert.True(CaptionMetrics.Compute(References, Candidates).CiderIsMeasured);
    }

    [Fact]
    public void EmptyReferencesAreRefusedNotScored()
    {
        // A fixed-size references column (COCO images have 5 to 7 captions) pads the shorter rows with empty text:
        // scored, each empty reference would divide the image's CIDEr (3.54 → 1.18 for 1 caption + 2 empty ones).
        var ml = new MLContext(seed: 0);
        var tsv = Path.Combine(Path.GetTempPath(), $"coca-padded-references-{Guid.NewGuid():N}.tsv");
        File.WriteAllLines(tsv, ["a dog running on the grass\tA dog runs on the grass.\t\t", "a cat on a sofa\tA cat sleeps on a sofa.\tA grey cat.\tCat on the sofa."]);
        try
        {
            var view = ml.Data.LoadFromTextFile(tsv, [new("Caption", Microsoft.ML.Data.DataKind.String, 0), new("References", Microsoft.ML.Data.DataKind.String, 1, 3)]);
            var e = Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(view));
            Assert.Contains("Image '0' has an empty reference caption (reference 2 of 3)", e.Message);
        }
        finally
        {
            File.Delete(tsv);
        }
        var references = new Dictionary<string, IReadOnlyList<string>>(References) { ["2"] = ["A dog runs in a park.", "  "] };
        Assert.Contains("Image '2' has an empty reference caption (reference 2 of 2)", Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(references, Candidates)).Message);
    }

    [Fact]
    public void ReferencesWithoutAWordAnywhereAreRefused()
    {
        // pycocoevalcap fails on such a set (cider_scorer.py: max() of the empty document frequencies); scored, empty
        // candidates would get ROUGE-L 1 (rouge.py's split(" ") makes "" one empty word on both sides).
        var references = new Dictionary<string, IReadOnlyList<string>> { ["1"] = ["..."], ["2"] = ["?", "!"] };
        var candidates = new Dictionary<string, string> { ["1"] = "", ["2"] = "" };
        var e = Assert.Throws<ArgumentException>(() => CaptionMetrics.Compute(references, candidates));
        Assert.Contains("None of the 3 reference captions of the 2 images has a word", e.Message);
    }

    [Theory]
    // Stanford PTB's rules as pycocoevalcap runs them (checked against CoreNLP 3.4.1 in caption-metrics-reference.json).
    [InlineData("Don't the dog's toys (red) look nice?", "do n't the dog 's toys -lrb- red -rrb- look nice")]
    [InlineData("A man riding a wave on top of a surfboard.", "a man riding a wave on top of a surfboard")]
    [InlineData("Wow!! Really?!", "wow !! really ?!")]
    [InlineData("line one\nline two", "line one line two")]
    public void TokenizeGivesTheTextPycocoevalcapScores(string caption, string expected) =>
        Assert.Equal(expected, CaptionMetrics.Tokenize(caption));

    private sealed class Row
    {
        public string Caption { get; set; } = "";

        [Microsoft.ML.Data.VectorType]
        public string[] References { get; set; } = [];
    }
}

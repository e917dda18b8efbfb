using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// <c>coca evaluate-captions</c> end to end: COCO's captions/results files and the JSON Lines of <c>coca caption --out</c>
/// give pycocoevalcap's numbers (Evaluation/Data/caption-metrics-reference.json); every bad input is one line on stderr
/// naming the file and what was expected, exit code 1 (2 for a usage error).
/// </summary>
public sealed class EvaluateCaptionsCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-cli-evalcap-");
    private readonly CaptionMetricsReference.Set _set = CaptionMetricsReference.Get("coco-like");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public void CocoFilesGivePycocoevalcapsScoresAsJson()
    {
        var run = CliProcess.Run("evaluate-captions", "--references", CocoReferences(), "--results", CocoResults(), "--json");
        Assert.True(run.ExitCode == 0, run.StdErr);
        AssertScoresEqualReference(run.StdOut);
    }

    [Fact]
    public void CaptionJsonLinesAgainstJsonLinesReferencesGivePycocoevalcapsScores()
    {
        var run = CliProcess.Run("evaluate-captions", "--references", JsonLinesReferences(), "--results", CaptionJsonLines("photos"), "--json");
        Assert.True(run.ExitCode == 0, run.StdErr);
        AssertScoresEqualReference(run.StdOut);
    }

    [Fact]
    public void CaptionJsonLinesMatchCocoReferencesOnFileNames()
    {
        // coca caption --out over the COCO images' folder, scored against COCO's captions file.
        var run = CliProcess.Run("evaluate-captions", "--references", CocoReferences(), "--results", CaptionJsonLines("/data/coco/val2014"), "--json");
        Assert.True(run.ExitCode == 0, run.StdErr);
        AssertScoresEqualReference(run.StdOut);
    }

    [Fact]
    public void TextOutputNamesEachMetricAndSaysMeteorAndSpiceAreNotComputed()
    {
        var run = CliProcess.Run("evaluate-captions", "-r", CocoReferences(), "--results", CocoResults());
        Assert.True(run.ExitCode == 0, run.StdErr);
        foreach (var name in CaptionMetricsReference.MetricNames)
            Assert.Contains($"{name}", run.StdOut);
        Assert.Contains($"CIDEr       {_set.Scores["CIDEr"].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}", run.StdOut);
        Assert.Contains("METEOR and SPICE are not computed", run.StdOut);
        Assert.Contains($"images      {_set.Images.Length}", run.StdOut);
    }

    [Fact]
    public void CiderOfASingleImageIsNotAvailable_NotZero()
    {
        // CIDEr-D's idf is log(images) − log(df) = 0 for one image: 0 for any caption, so it measures nothing there.
        var references = Write("one.jsonl", "{\"input\": \"a.jpg\", \"references\": [\"A dog runs on the grass.\", \"A brown dog.\"]}\n");
        var results = Write("one-result.jsonl", "{\"input\": \"a.jpg\", \"text\": \"a dog runs on the grass\"}\n");
        var json = CliProcess.Run("evaluate-captions", "-r", references, "--results", results, "--json");
        Assert.True(json.ExitCode == 0, json.StdErr);
        var o = JsonNode.Parse(json.StdOut)!.AsObject();
        Assert.True(o.ContainsKey("CIDEr"));
        Assert.Null(o["CIDEr"]);
        Assert.True(o["Bleu_1"]!.GetValue<double>() > 0.9);
        var text = CliProcess.Run("evaluate-captions", "-r", references, "--results", results);
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains("CIDEr       n/a (one image: CIDEr's weights come from a set of images, so it is 0 for any caption)", text.StdOut);
    }

    [Fact]
    public void ImagesOnOneSideOnlyAreOneLineNamingThem()
    {
        var results = _set.Images.Skip(1).Select(i => new JsonObject { ["image_id"] = long.Parse(i.Id), ["caption"] = i.Candidate }).ToList();
        results.Add(new JsonObject { ["image_id"] = 999, ["caption"] = "a cat" });
        var resultsPath = Write("results.json", new JsonArray([.. results]).ToJsonString());
        var run = CliProcess.Run("evaluate-captions", "--references", CocoReferences(), "--results", resultsPath);
        AssertOneLineError(run, 1, "1 image(s) have results but no references ('999')", $"1 image(s) have references but no results ('{_set.Images[0].Id}')");
    }

    public static TheoryData<string, string, string, string> BadFiles() => new()
    {
        // which file is bad, its name, its text, what the one line must say
        { "references", "empty.json", "  \n", "is empty; expected COCO captions JSON" },
        { "references", "broken.json", "{\n  \"annotations\": [\n    {\"image_id\": 1, \"caption\": \"a cat\"\n  ]\n}", "is not valid JSON (line 4" },
        { "references", "broken.jsonl", "{\"input\": \"a.jpg\", \"references\": [\"a cat\"]}\n{\"input\": \"b.jpg\", \"references\": [\"a dog\"\n", "line 2: not valid JSON" },
        { "references", "nocaption.json", "{\"annotations\": [{\"image_id\": 1, \"caption\": \"a cat\"}, {\"image_id\": 2}]}", "annotations[1] (image_id 2): expected \"caption\", a non-empty string" },
        { "references", "norefs.jsonl", "{\"input\": \"a.jpg\", \"references\": []}", "line 1: expected \"references\", a non-empty array of captions" },
        { "references", "results-array.json", "[{\"image_id\": 1, \"caption\": \"a cat\"}]", "is a JSON array; expected COCO captions JSON" },
        { "references", "noannotations.json", "{\"images\": [], \"annotations\": []}", "has no annotations" },
        { "results", "empty.jsonl", "", "is empty; expected COCO results JSON" },
        { "results", "notext.jsonl", "{\"input\": \"a.jpg\", \"ids\": [1, 2]}", "line 1: expected \"text\", the caption (a string)" },
        { "results", "twice.json", "[{\"image_id\": 1, \"caption\": \"a cat\"}, {\"image_id\": 1, \"caption\": \"a dog\"}]", "results[1]: a second caption for image_id 1" },
        { "results", "captions-format.json", "{\"annotations\": [{\"image_id\": 1, \"caption\": \"a cat\"}]}", "is in COCO's captions (references) format" },
        { "results", "broken.json", "[{\"image_id\": 1, \"caption\": \"a cat\"},\n {\"image_id\": 2 \"caption\": \"a dog\"}]", "is not valid JSON (line 2" },
        { "results", "notjson.txt", "a cat\na dog\n", "is not JSON; expected COCO results JSON" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFileIsOneLineNamingItAndWhatWasExpected(string which, string name, string text, string expected)
    {
        var bad = Write(name, text);
        var (references, results) = which == "references" ? (bad, CocoResults()) : (CocoReferences(), bad);
        var run = CliProcess.Run("evaluate-captions", "--references", references, "--results", results);
        AssertOneLineError(run, 1, Path.GetFullPath(bad), expected);
    }

    [Fact]
    public void MissingFileIsOneLineNamingIt()
    {
        var missing = Path.Combine(_dir.FullName, "no-such-captions.json");
        var run = CliProcess.Run("evaluate-captions", "--references", missing, "--results", CocoResults());
        AssertOneLineError(run, 2, "--references", missing, "does not exist");   // checked at parse time
    }

    [Fact]
    public void MissingOptionIsAUsageError()
    {
        var run = CliProcess.Run("evaluate-captions", "--references", CocoReferences());
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--results", run.StdErr);
    }

    private void AssertScoresEqualReference(string stdout)
    {
        var o = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal([.. CaptionMetricsReference.MetricNames, "images", "references", "not_computed"], o.Select(p => p.Key));
        foreach (var name in CaptionMetricsReference.MetricNames)
            Assert.True(CaptionMetricsReference.Close(_set.Scores[name], o[name]!.GetValue<double>()), $"{name}: pycocoevalcap {_set.Scores[name]:R}, coca {o[name]}");
        Assert.Equal(_set.Images.Length, o["images"]!.GetValue<int>());
        Assert.Equal(_set.Images.Sum(i => i.References.Length), o["references"]!.GetValue<int>());
        Assert.Equal(["METEOR", "SPICE"], o["not_computed"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    private static void AssertOneLineError(CliProcess.Result run, int exitCode, params string[] expected)
    {
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}: {run.StdErr}");
        var line = Assert.Single(run.StdErr.Trim().Split('\n'));
        Assert.StartsWith("coca: ", line);
        foreach (var e in expected) Assert.Contains(e, line);
    }

    private static string CocoFileName(string id) => $"COCO_val2014_{long.Parse(id):D12}.jpg";

    private string CocoReferences()
    {
        var images = new JsonArray([.. _set.Images.Select(i => (JsonNode)new JsonObject { ["id"] = long.Parse(i.Id), ["file_name"] = CocoFileName(i.Id), ["height"] = 480, ["width"] = 640 })]);
        int n = 0;
        var annotations = new JsonArray([.. _set.Images.SelectMany(i => i.References.Select(r => (JsonNode)new JsonObject { ["image_id"] = long.Parse(i.Id), ["id"] = ++n, ["caption"] = r }))]);
        return Write("captions_val.json", new JsonObject { ["info"] = new JsonObject(), ["images"] = images, ["annotations"] = annotations }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private string CocoResults() =>
        Write("results_val.json", new JsonArray([.. _set.Images.Select(i => (JsonNode)new JsonObject { ["image_id"] = long.Parse(i.Id), ["caption"] = i.Candidate })]).ToJsonString());

    private string JsonLinesReferences() =>
        Write("references.jsonl", string.Join("\n", _set.Images.Select(i => new JsonObject
        {
            ["input"] = $"photos/{CocoFileName(i.Id)}",
            ["references"] = new JsonArray([.. i.References.Select(r => (JsonNode)r)]),
        }.ToJsonString())) + "\n");

    /// <summary>The JSON Lines <c>coca caption --out</c> writes: {"input", "text", "ids"}, inputs under <paramref name="folder"/>.</summary>
    private string CaptionJsonLines(string folder) =>
        Write("captions.jsonl", string.Join("\n", _set.Images.Select(i => new JsonObject
        {
            ["input"] = $"{folder}/{CocoFileName(i.Id)}",
            ["text"] = i.Candidate,
            ["ids"] = new JsonArray(49406, 320, 49407),
        }.ToJsonString())) + "\n");

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}

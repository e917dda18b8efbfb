
namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// <c>coca caption</c>'s options: those the chosen decoding does not read are ignored with a note (the captions are
/// exactly the ones without them), --out is checked as featurize checks it, and --skip-unreadable exists where the
/// refusal of a folder suggests it.
/// </summary>
public sealed class CaptionOptionsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-cli-caption-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Model()
    {
        var model = Path.Combine(_dir, "model");
        var convert = CliProcess.Run("convert", CaptionFixture.Folder, "--out", model);
        Assert.True(convert.ExitCode == 0, convert.StdErr);
        return model;
    }

    [CaptionFixtureFact]
    public void OptionsTheDecodingDoesNotRead_AreIgnoredWithANote_AndTheCaptionsAreOpenClips()
    {
        var model = Model();
        var expected = CaptionFixture.Expected.Value;
        var images = CaptionFixture.File("images");
        string[] caption = ["caption", "--model", model, "--vocab", Fixtures.ClipBpe];

        var greedy = CliProcess.Run([.. caption, "--decoding", "greedy", "--beams", "3", "--top-p", "0.5", "--temperature", "2", "--seed", "7", images]);
        Assert.True(greedy.ExitCode == 0, greedy.StdErr);
        Assert.Equal(expected.GreedyText, greedy.StdOut.TrimEnd('\n').Split('\n').Select(l => l.Split('\t')[1]));
        Assert.Equal("coca: note: --beams, --top-p, --temperature, --seed do not apply to --decoding greedy; ignored.", greedy.StdErr.Trim());

        var beam = CliProcess.Run([.. caption, "--top-k", "5", images]);
        Assert.True(beam.ExitCode == 0, beam.StdErr);
        Assert.Equal(expected.BeamText, beam.StdOut.TrimEnd('\n').Split('\n').Select(l => l.Split('\t')[1]));
        Assert.Equal("coca: note: --top-k does not apply to --decoding beam (the default); ignored.", beam.StdErr.Trim());

        // Options that apply make no note; contradictory values are refused before the model loads.
        var sampled = CliProcess.Run([.. caption, "--decoding", "top-p", "--top-p", "0.5", "--temperature", "2", "--seed", "7", "--top-k", "10", images]);
        Assert.True(sampled.ExitCode == 0 && sampled.StdErr == "", sampled.StdErr);
        var contradictory = CliProcess.Run([.. caption, "--max-tokens", "4", images]);
        Assert.Equal(2, contradictory.ExitCode);
        Assert.Equal("coca: --min-tokens 5 (the default) must be below --max-tokens 4.", contradictory.StdErr.Trim());
    }

    [CaptionFixtureFact]
    public void Out_IsCheckedAsFeaturizeChecksIt_SameWords_AndAMissingFolderIsMade()
    {
        var model = Model();
        var images = CaptionFixture.File("images");
        CliProcess.Result Caption(string output) => CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--out", output, images);
        CliProcess.Result Featurize(string output) => CliProcess.Run("featurize", "--model", model, "--images", images, "--out", output);
        var aFile = Path.Combine(_dir, "a-file");
        File.WriteAllText(aFile, "");

        foreach (var output in new[] { _dir, Path.Combine(aFile, "out") })
        {
            var caption = Caption(output);
            var featurize = Featurize(output);
            Assert.Equal(2, caption.ExitCode);
            Assert.Equal(2, featurize.ExitCode);
            Assert.Equal(featurize.StdErr.Replace("features.npy", "captions.jsonl"), caption.StdErr);
            Assert.StartsWith($"coca: --out '{output}' ", caption.StdErr);
            Assert.Single(caption.StdErr.Trim().Split('\n'));
        }

        // A folder that does not exist yet is made, for both.
        var jsonl = Path.Combine(_dir, "new", "deeper", "captions.jsonl");
        var made = Caption(jsonl);
        Assert.True(made.ExitCode == 0, made.StdErr);
        Assert.Equal(6, File.ReadAllLines(jsonl).Length);
        var npy = Path.Combine(_dir, "other", "deeper", "features.npy");
        var featurized = Featurize(npy);
        Assert.True(featurized.ExitCode == 0, featurized.StdErr);
        Assert.True(File.Exists(npy));
    }

    [CaptionFixtureFact]
    public void SkipUnreadable_WhichTheRefusalSuggests_IsAnOptionOfCaption()
    {
        var model = Model();
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "mixed")).FullName;
        foreach (var image in Directory.GetFiles(CaptionFixture.File("images")))
            File.Copy(image, Path.Combine(folder, Path.GetFileName(image)));
        File.WriteAllBytes(Path.Combine(folder, "phone.heic"), [0, 0, 0, 24]);
        string[] caption = ["caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", folder];

        var refused = CliProcess.Run(caption);
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("phone.heic", line);
        Assert.Contains("--skip-unreadable", line);

        var skipped = CliProcess.Run([.. caption, "--skip-unreadable"]);
        Assert.True(skipped.ExitCode == 0, skipped.StdErr);
        Assert.Equal(CaptionFixture.Expected.Value.GreedyText, skipped.StdOut.TrimEnd('\n').Split('\n').Select(l => l.Split('\t')[1]));
        Assert.Contains("coca: warning: skipping 1 image file(s)", skipped.StdErr);
        Assert.Contains("phone.heic", skipped.StdErr);
    }
}

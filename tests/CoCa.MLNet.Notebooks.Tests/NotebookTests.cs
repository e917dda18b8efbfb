using CoCa.MLNet.Demo;
using CoCa.MLNet.Notebooks.Tests.Support;
using Xunit.Abstractions;

namespace CoCa.MLNet.Notebooks.Tests;

/// <summary>
/// Each notebook in notebooks/ runs top to bottom in the real .NET Interactive kernel (dotnet-repl), on its built-in
/// data, as a user runs it, and shows what it promises (curves, confusion matrices). Any error output fails the test,
/// naming the notebook and the cell.
/// </summary>
public sealed class NotebookTests(ITestOutputHelper output)
{
    private readonly TinyCoCaModel _tiny = TinyCoCaCache.Model;   // trained (once) before any notebook runs

    private async Task<IReadOnlyList<CellOutput>> Run(string name)
    {
        var log = new TestOutputWriter(output);
        var outputs = await KernelRun.RunAsync(name, log);
        foreach (var o in outputs.Where(o => o.MimeTypes.Contains("text/plain")))
            log.WriteLine($"[cell {o.Cell}] {o.Text}");
        log.Flush();
        return outputs;
    }

    /// <summary>The charts a notebook showed: HTML outputs drawing a plotly.js figure.</summary>
    private static List<string> Charts(IReadOnlyList<CellOutput> outputs) =>
        outputs.Where(o => o.MimeTypes.Contains("text/html") && o.Text.Contains("Plotly.newPlot", StringComparison.Ordinal)).Select(o => o.Text).ToList();

    [Fact]
    public async Task ImageClassification()
    {
        var outputs = await Run("image-classification.ipynb");

        var epochs = outputs.Where(o => o.Text.StartsWith("epoch ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(epochs);
        Assert.Contains(outputs, o => o.Text.StartsWith($"trained {epochs.Count} epochs", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Text.StartsWith("accuracy ", StringComparison.Ordinal) && o.Text.EndsWith("test images; chance 25 %", StringComparison.Ordinal));
        var charts = Charts(outputs);
        Assert.Equal(2, charts.Count);
        Assert.Equal(2, PlotlyFigure.Count(charts[0], "scatter"));   // training and validation loss
        Assert.Equal(1, PlotlyFigure.Count(charts[1], "heatmap"));
        Assert.Equal(4, MatrixRows(charts[1]));                         // one row per true class (the tiny CoCa's 4 shapes)
        Assert.Contains(outputs, o => o.Text.Contains(" → ", StringComparison.Ordinal) && o.Text.Contains("KiB", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VideoActionRecognition()
    {
        var outputs = await Run("video-action-recognition.ipynb");

        Assert.Equal(25, outputs.Count(o => o.Text.StartsWith("epoch ", StringComparison.Ordinal)));   // no validation split
        var charts = Charts(outputs);
        Assert.Equal(2, charts.Count);
        Assert.Equal(1, PlotlyFigure.Count(charts[0], "scatter"));   // training loss only
        Assert.Equal(4, MatrixRows(charts[1]));                         // left, right, up, down
        Assert.Contains(outputs, o => o.Text.Contains("test videos right", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Captioning()
    {
        var outputs = await Run("captioning.ipynb");

        var captions = outputs.SelectMany(o => o.Text.Split('\n')).Where(l => l.StartsWith("caption ", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, captions.Count);                                   // 6 generated captioned pictures
        Assert.All(captions, c => Assert.Contains(" ids, ", c, StringComparison.Ordinal));
        // The tiny CoCa (trained from scratch) names each picture's colour, as its true caption does.
        Assert.All(captions, c => Assert.Matches(@"ids, a (?<colour>\w+) .*\(true: a \k<colour> ", c));
        // pycocoevalcap's metrics of those captions against the true ones: the colour and the template words match.
        var metrics = Assert.Single(outputs, o => o.Text.StartsWith("BLEU-1 ", StringComparison.Ordinal));
        Assert.Contains("on 6 pictures (METEOR and SPICE need Java: not computed)", metrics.Text);
        var bleu1 = double.Parse(System.Text.RegularExpressions.Regex.Match(metrics.Text, @"^BLEU-1 ([0-9.]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(bleu1 > 0.3, metrics.Text);
        Assert.Contains(outputs, o => o.Text.Contains("reloaded captions identical: True", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ZeroShot()
    {
        var outputs = await Run("zero-shot.ipynb");

        var accuracy = Assert.Single(outputs, o => o.Text.StartsWith("zero-shot accuracy", StringComparison.Ordinal) && o.Text.Contains("on 64 images", StringComparison.Ordinal));
        // The tiny CoCa trained from scratch names the colour of new pictures far above chance (25 %).
        var percent = double.Parse(System.Text.RegularExpressions.Regex.Match(accuracy.Text, @"accuracy ([0-9.]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(percent >= 60, accuracy.Text);
        Assert.Equal(4, MatrixRows(Assert.Single(Charts(outputs))));
        Assert.Contains(outputs, o => o.Text.EndsWith("reloaded predictions identical: True", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ImageClassification_ADataFolderThatIsAFile_IsOneLineNamingIt()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("coca-notebook-setting-").FullName, "photos.zip");
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        var outputs = await KernelRun.RunWithSettingAsync("image-classification.ipynb", ("string dataFolder = null;", $"string dataFolder = \"{file}\";"), new TestOutputWriter(output));

        // The cell that reads the folder fails with one line naming the setting, its value and what was expected, and
        // no stack trace (the kernel shows an exception's ToString() and its stack). dotnet-repl runs the later cells
        // anyway, which then fail on what was never set; a user running all cells stops at this first error.
        var error = outputs.First(o => o.Kind == "error");
        Assert.Equal(10, error.Cell);   // the images cell
        Assert.Equal($"dataFolder: Data folder '{file}' is a file; expected a folder with one sub-folder per class holding its images.", error.Detail);
    }

    [Theory]
    [InlineData("image-classification.ipynb", "string dataFolder = null;", "dataFolder", 10)]
    [InlineData("zero-shot.ipynb", "string dataFolder = null;", "dataFolder", 9)]
    [InlineData("captioning.ipynb", "string imageFolder = null;", "imageFolder", 9)]
    [InlineData("video-action-recognition.ipynb", "string dataFolder = null;", "dataFolder", 7)]
    public async Task Notebook_ACorruptFileInTheDataFolder_IsOneLineNamingIt(string notebook, string setting, string name, int readingCell)
    {
        // A data folder with good examples and one corrupt file: text saved as a .png (or as an .mp4 among videos).
        bool videos = notebook.StartsWith("video", StringComparison.Ordinal);
        var folder = Directory.CreateTempSubdirectory("coca-notebook-corrupt-").FullName;
        string bad;
        if (videos)
        {
            VideoDatasetGenerator.GenerateMotionDataset(folder, new MotionDatasetOptions { VideosPerClass = 2, FrameCount = 8, Seed = 1 });
            bad = Path.Combine(folder, "left", "bad.mp4");
        }
        else
        {
            TinyCoCa.PicturesByClass(folder, "colour", count: 16, seed: 3);
            bad = Path.Combine(folder, Path.GetFileName(Directory.GetDirectories(folder).Order(StringComparer.Ordinal).First()), "bad.png");
        }
        await File.WriteAllTextAsync(bad, "not an image: a text file saved under an image's name\n");
        var outputs = await KernelRun.RunWithSettingAsync(notebook, (setting, setting.Replace("null", $"\"{folder}\"", StringComparison.Ordinal)), new TestOutputWriter(output));

        // The cell that reads the folder fails (run-all stops there), before any featurizing, with one line naming the
        // setting, the file and what was expected: no exception type, no wrapper, no stack frame. Before, the
        // featurizer's exception came out cells later with its whole stack trace (and ML.NET's wrappers).
        var error = outputs.First(o => o.Kind == "error");
        Assert.Equal(readingCell, error.Cell);
        Assert.DoesNotContain('\n', error.Detail);
        Assert.DoesNotContain("   at ", error.Detail);
        Assert.StartsWith($"{name}: Cannot {(videos ? "read video" : "decode image")} '{bad}': ", error.Detail);
        Assert.Contains(videos ? "Expected a video file" : "expected PNG, JPEG", error.Detail);
    }

    [Fact]
    public void EveryNotebookHasATest()
    {
        var tested = typeof(NotebookTests).GetMethods()
            .Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0 && m.Name != nameof(EveryNotebookHasATest) && !m.Name.Contains('_'))
            .Select(m => m.Name).Order();
        var notebooks = Directory.GetFiles(RepositoryPaths.Notebooks, "*.ipynb")
            .Select(p => string.Concat(Path.GetFileNameWithoutExtension(p).Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))).Order();
        Assert.Equal(notebooks, tested);
    }

    /// <summary>The rows of the heatmap's "z" matrix in a chart's plotly.js data.</summary>
    private static int MatrixRows(string chart) =>
        PlotlyFigure.Traces(chart).Single(t => t.GetProperty("type").GetString() == "heatmap").GetProperty("z").GetArrayLength();
}

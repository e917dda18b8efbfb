using CoCa.MLNet.Notebooks.Tests.Runner;
using CoCa.MLNet.Notebooks.Tests.Support;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Notebooks.Tests;

/// <summary>
/// Each notebook in notebooks/ runs top to bottom on its built-in data, as a user would run it, and shows what it
/// promises (curves, confusion matrices). Any exception fails the test, naming the notebook and the cell.
/// </summary>
public sealed class NotebookTests(ITestOutputHelper output)
{
    private async Task<NotebookRun> Run(string name)
    {
        var notebook = Notebook.Load(Path.Combine(RepositoryPaths.Notebooks, name));
        var log = new TestOutputWriter(output);
        var started = DateTime.UtcNow;
        var run = await new NotebookRunner(PackageCatalog.ForTestAssembly(), RepositoryPaths.LocalPackages, log).RunAsync(notebook);
        log.WriteLine($"{name}: {run.CellDurations.Count} code cells in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
        log.Flush();
        return run;
    }

    [Fact]
    public async Task ImageClassification()
    {
        var run = await Run("image-classification.ipynb");

        var history = run.Variable<List<AttentionalPoolerProgress>>("history");
        Assert.NotEmpty(history);
        var metrics = run.Variable<MulticlassClassificationMetrics>("metrics");
        Assert.Equal(3, metrics.ConfusionMatrix.NumberOfClasses);
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
        var svgs = run.Svgs.Select(o => o.Text).ToList();
        Assert.Equal(2, svgs.Count);
        Assert.Equal(2, Count(svgs[0], "<polyline"));                    // training and validation loss
        Assert.Equal(3 * 3, Count(svgs[1], "<rect"));                    // one cell per (true, predicted) class
        Assert.Contains(run.Outputs, o => o.Kind == "update" && o.Text.StartsWith($"epoch {history.Count}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VideoActionRecognition()
    {
        var run = await Run("video-action-recognition.ipynb");

        var history = run.Variable<List<AttentionalPoolerProgress>>("history");
        Assert.Equal(25, history.Count);                                  // no validation split, so no early stop
        var metrics = run.Variable<MulticlassClassificationMetrics>("metrics");
        Assert.Equal(4, metrics.ConfusionMatrix.NumberOfClasses);        // left, right, up, down
        var svgs = run.Svgs.Select(o => o.Text).ToList();
        Assert.Equal(2, svgs.Count);
        Assert.Equal(4 * 4, Count(svgs[1], "<rect"));
        Assert.Contains(run.Outputs, o => o.Kind == "result" && o.Text.Contains("test videos right", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Captioning()
    {
        var run = await Run("captioning.ipynb");

        var captions = run.Variable<System.Collections.IList>("captions");
        Assert.Equal(6, captions.Count);
        Assert.Contains(run.Outputs, o => o.Kind == "result" && o.Text.EndsWith("reloaded captions identical: True", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ZeroShot()
    {
        var run = await Run("zero-shot.ipynb");

        var predictions = run.Variable<System.Collections.IList>("predictions");
        Assert.Equal(30, predictions.Count);
        Assert.Equal(3, run.Variable<System.Collections.IList>("textEmbeddings").Count);
        Assert.Equal(3 * 3, Count(Assert.Single(run.Svgs).Text, "<rect"));
        Assert.Contains(run.Outputs, o => o.Kind == "result" && o.Text.EndsWith("reloaded predictions identical: True", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryNotebookHasATest()
    {
        var tested = typeof(NotebookTests).GetMethods()
            .Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0 && m.Name != nameof(EveryNotebookHasATest))
            .Select(m => m.Name).Order();
        var notebooks = Directory.GetFiles(RepositoryPaths.Notebooks, "*.ipynb")
            .Select(p => string.Concat(Path.GetFileNameWithoutExtension(p).Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))).Order();
        Assert.Equal(notebooks, tested);
    }

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;
}

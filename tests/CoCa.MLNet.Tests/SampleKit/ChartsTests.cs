using System.Text.Json;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Tests.SampleKit;

/// <summary>The walkthroughs' Plotly.NET charts carry the numbers they were given, and the samples' HTML files draw them.</summary>
public sealed class ChartsTests
{
    [Fact]
    public void ConfusionMatrix_HoldsTheCounts_RowsTrueColumnsPredicted_EachCellLabelled()
    {
        string[] labels = ["cat", "dog", "fox"];
        double[][] counts = [[5, 1, 0], [2, 7, 1], [0, 0, 9]];
        var folder = Directory.CreateTempSubdirectory("coca-charts-").FullName;
        var path = Path.Combine(folder, "confusion.html");
        Assert.Equal(path, Charts.ConfusionMatrix(labels, counts, "Test matrix").Save(path));
        var html = File.ReadAllText(path);
        Directory.Delete(folder, recursive: true);

        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains("Test matrix", html);
        var heatmap = Assert.Single(PlotlyFigure.Traces(html));
        Assert.Equal("heatmap", heatmap.GetProperty("type").GetString());
        Assert.Equal(labels, heatmap.GetProperty("x").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(labels, heatmap.GetProperty("y").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(counts, heatmap.GetProperty("z").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()));
        Assert.Equal(counts.Select(r => r.Select(v => v.ToString("0")).ToArray()), heatmap.GetProperty("text").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetString()!).ToArray()));
        Assert.Equal("%{text}", heatmap.GetProperty("texttemplate").GetString());
    }

    [Fact]
    public void ConfusionMatrix_NotSquareOverTheLabels_IsOneClearLine()
    {
        var e = Assert.Throws<ArgumentException>(() => Charts.ConfusionMatrix(["a", "b"], [[1.0, 2.0]]));
        Assert.StartsWith("Confusion matrix of 1 rows for 2 labels; expected 2×2 counts.", e.Message);
    }

    [Fact]
    public void Loss_DrawsTrainingAndValidationCurves_PerEpoch()
    {
        var history = new[]
        {
            new AttentionalPoolerProgress(1, 3, 1.5, 0.3, 1.6, 0.25, 100, 1e-3, true),
            new AttentionalPoolerProgress(2, 3, 1.0, 0.5, 1.2, 0.5, 100, 1e-3, true),
            new AttentionalPoolerProgress(3, 3, 0.5, 0.8, 1.3, 0.5, 100, 1e-3, false),
        };
        var html = Plotly.NET.GenericChart.toEmbeddedHTML(Charts.Loss(history));
        var traces = PlotlyFigure.Traces(html);
        Assert.Equal(["training loss", "validation loss"], traces.Select(t => t.GetProperty("name").GetString()));
        Assert.All(traces, t => Assert.Equal([1, 2, 3], t.GetProperty("x").EnumerateArray().Select(v => v.GetInt32())));
        Assert.Equal([1.5, 1.0, 0.5], traces[0].GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([1.6, 1.2, 1.3], traces[1].GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));

        var trainingOnly = PlotlyFigure.Traces(Plotly.NET.GenericChart.toEmbeddedHTML(Charts.Loss(history.Select(h => h with { ValidationLoss = null }).ToArray())));
        Assert.Single(trainingOnly);
    }
}

using CoCa.MLNet.Training.Pooling;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace CoCa.MLNet.Samples;

/// <summary>
/// The walkthroughs' charts, drawn with Plotly.NET: the training-loss curve and the confusion matrix. A notebook shows
/// the returned <see cref="GenericChart"/> inline (with <c>#r "nuget: Plotly.NET.Interactive"</c>); the samples write it
/// as an HTML page (<see cref="Save"/>).
/// </summary>
public static class Charts
{
    /// <summary>Training (and, when there is a validation split, validation) loss per epoch.</summary>
    public static GenericChart Loss(IReadOnlyList<AttentionalPoolerProgress> history, string title = "Attentional pooler training")
    {
        var epochs = history.Select(h => h.Epoch).ToArray();
        var curves = new List<GenericChart>
        {
            PlotlyChart.Line<int, double, string>(epochs, history.Select(h => h.TrainingLoss).ToArray(), ShowMarkers: true, Name: "training loss"),
        };
        var validated = history.Where(h => h.ValidationLoss is not null).ToArray();
        if (validated.Length > 0)
            curves.Add(PlotlyChart.Line<int, double, string>(validated.Select(h => h.Epoch).ToArray(), validated.Select(h => h.ValidationLoss!.Value).ToArray(), ShowMarkers: true, Name: "validation loss"));
        return Titled(PlotlyChart.Combine(curves), title, "epoch", "cross-entropy");
    }

    /// <summary>A confusion matrix: rows are true classes (first on top), columns predicted ones; each cell shows its count.</summary>
    public static GenericChart ConfusionMatrix(IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<double>> counts, string title = "Confusion matrix")
    {
        if (counts.Count != labels.Count || counts.Any(r => r.Count != labels.Count))
            throw new ArgumentException($"Confusion matrix of {counts.Count} rows for {labels.Count} labels; expected {labels.Count}×{labels.Count} counts.", nameof(counts));
        var z = counts.Select(r => r.ToArray()).ToArray();
        var text = counts.Select(r => r.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var heatmap = PlotlyChart.Heatmap<double, string, string, string>(z, X: labels.ToArray(), Y: labels.ToArray(),
            ColorScale: StyleParam.Colorscale.NewCustom([Tuple.Create(0.0, Color.fromString("#f7fbff")), Tuple.Create(1.0, Color.fromString("#08306b"))]),
            ReverseYAxis: true);
        // Each cell shows its count: plotly.js's 2-D text + texttemplate, which the C# Heatmap has no parameters for.
        foreach (var trace in GenericChart.getTraces(heatmap))
        {
            trace.SetProperty("text", text);
            trace.SetProperty("texttemplate", "%{text}");
            trace.SetProperty("hovertemplate", "true %{y}, predicted %{x}: %{z}<extra></extra>");
        }
        return Titled(heatmap, title, "predicted", "true");
    }

    /// <summary>Writes the chart as a standalone HTML page (plotly.js from its CDN) and returns the path.</summary>
    public static string Save(this GenericChart chart, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, GenericChart.toEmbeddedHTML(chart));
        return path;
    }

    private static GenericChart Titled(GenericChart chart, string title, string x, string y) =>
        Plotly.NET.Chart.withTitle(TitleText(title)).Invoke(chart)
            .WithXAxisStyle<int, int, int>(TitleText: x)
            .WithYAxisStyle<int, int, int>(TitleText: y);

    // Title.init's optional arguments are F# options that C# must all spell out; the title is plotly.js's {"text": …}.
    private static Title TitleText(string text)
    {
        var t = new Title();
        t.SetProperty("text", text);
        return t;
    }
}

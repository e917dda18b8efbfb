using System.Text.Json;
using System.Text.Json.Nodes;
using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Samples;

/// <summary>
/// A chart drawn by plotly.js: the figure (traces and layout) as plotly.js JSON, shown inline in a notebook
/// (<c>display(HTML(chart.Html))</c>) or written as an HTML page by the samples (<see cref="Save"/>).
/// </summary>
/// <remarks>
/// plotly.js, not a .NET plotting package, because none of the served ones loads beside this project's stack: ScottPlot
/// 5.1 needs SkiaSharp 3, which breaks ML.NET 5's <c>MLImage</c> (SkiaSharp 2.88) in the same process, and Plotly.NET 6
/// needs FSharp.Core 10.1, newer than the 10.0 that the .NET Interactive kernel (1.0.0-beta.26120) has loaded.
/// </remarks>
public sealed class Chart(JsonArray traces, JsonObject layout)
{
    /// <summary>The plotly.js version the HTML loads (from its CDN) when the page has no Plotly yet.</summary>
    public const string PlotlyJsUrl = "https://cdn.plot.ly/plotly-2.35.2.min.js";

    /// <summary>The traces, as plotly.js's <c>data</c> argument.</summary>
    public JsonArray Traces { get; } = traces;

    /// <summary>The layout, as plotly.js's <c>layout</c> argument.</summary>
    public JsonObject Layout { get; } = layout;

    /// <summary>A &lt;div&gt; and the script that draws the chart in it (loading plotly.js first when needed).</summary>
    public string Html
    {
        get
        {
            var id = "coca-chart-" + Guid.NewGuid().ToString("N");
            return $$"""
                <div id="{{id}}" style="width:640px;height:420px"></div>
                <script>
                (function () {
                  var draw = function () { Plotly.newPlot("{{id}}", {{Traces.ToJsonString()}}, {{Layout.ToJsonString()}}); };
                  if (window.Plotly) { draw(); return; }
                  var s = document.createElement("script"); s.src = "{{PlotlyJsUrl}}"; s.onload = draw; document.head.appendChild(s);
                })();
                </script>
                """;
        }
    }

    /// <summary>Writes the chart as an HTML page and returns the path.</summary>
    public string Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{System.Net.WebUtility.HtmlEncode(Layout["title"]?["text"]?.GetValue<string>() ?? "chart")}</title></head>\n<body>\n{Html}\n</body></html>\n");
        return path;
    }
}

/// <summary>The walkthroughs' charts: the training-loss curve and the confusion matrix.</summary>
public static class Charts
{
    /// <summary>Training (and, when there is a validation split, validation) loss per epoch.</summary>
    public static Chart Loss(IReadOnlyList<AttentionalPoolerProgress> history, string title = "Attentional pooler training")
    {
        var epochs = history.Select(h => h.Epoch).ToArray();
        var traces = new JsonArray { Line("training loss", epochs, history.Select(h => (double?)h.TrainingLoss)) };
        if (history.Any(h => h.ValidationLoss is not null))
            traces.Add(Line("validation loss", epochs, history.Select(h => h.ValidationLoss)));
        return new Chart(traces, Layout(title, "epoch", "cross-entropy"));
    }

    /// <summary>A confusion matrix: rows are true classes, columns predicted ones; each cell shows its count.</summary>
    public static Chart ConfusionMatrix(IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<double>> counts, string title = "Confusion matrix")
    {
        var heatmap = new JsonObject
        {
            ["type"] = "heatmap",
            ["x"] = Json(labels),
            ["y"] = Json(labels),
            ["z"] = Json(counts),
            ["text"] = Json(counts.Select(r => r.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))),
            ["texttemplate"] = "%{text}",
            ["colorscale"] = "Blues",
            ["hovertemplate"] = "true %{y}, predicted %{x}: %{z}<extra></extra>",
        };
        var layout = Layout(title, "predicted", "true");
        layout["yaxis"]!["autorange"] = "reversed";                 // first class on top, as the matrix prints
        return new Chart([heatmap], layout);
    }

    private static JsonObject Line(string name, int[] x, IEnumerable<double?> y) => new()
    {
        ["type"] = "scatter", ["mode"] = "lines+markers", ["name"] = name, ["x"] = Json(x), ["y"] = Json(y),
    };

    private static JsonObject Layout(string title, string x, string y) => new()
    {
        ["title"] = new JsonObject { ["text"] = title },
        ["xaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = x } },
        ["yaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = y } },
    };

    // An explicit resolver: file-based apps turn reflection-based serialization off by default.
    private static readonly JsonSerializerOptions JsonOptions = new() { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };

    private static JsonNode Json<T>(T value) => JsonSerializer.SerializeToNode(value, JsonOptions)!;
}

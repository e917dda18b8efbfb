using System.Text.Json;
using System.Text.RegularExpressions;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>Reads the traces back out of a Plotly.NET chart's HTML (its <c>var data = […];</c> plotly.js argument).</summary>
public static class PlotlyFigure
{
    public static JsonElement[] Traces(string html)
    {
        var data = Regex.Match(html, @"var data = (\[.*?\]);\s*\n", RegexOptions.Singleline);
        Assert.True(data.Success, "no plotly.js data in the chart's HTML");
        return JsonDocument.Parse(data.Groups[1].Value).RootElement.EnumerateArray().ToArray();
    }

    public static int Count(string html, string traceType) => Traces(html).Count(t => t.GetProperty("type").GetString() == traceType);
}

using System.Text;

namespace CoCa.MLNet.Samples;

/// <summary>Charts as SVG strings: no plotting package needed; open the files in any browser.</summary>
public static class SvgPlot
{
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

    /// <summary>A line chart of one or more series over epochs 1..n.</summary>
    public static string Lines(string title, string xLabel, string yLabel, params (string Name, double[] Values)[] series)
    {
        const int W = 600, H = 320, L = 60, R = 150, T = 34, B = 46;
        var all = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double lo = Math.Min(0, all.Min()), hi = all.Max() <= lo ? lo + 1 : all.Max() * 1.05;
        int n = Math.Max(2, series.Max(s => s.Values.Length));
        double X(int i) => L + i * (W - L - R) / (double)(n - 1);
        double Y(double v) => T + (hi - v) / (hi - lo) * (H - T - B);
        var svg = new StringBuilder(I($"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='12'>"));
        svg.Append(I($"<text x='{(W - R + L) / 2}' y='20' text-anchor='middle' font-size='15'>{Esc(title)}</text>"));
        for (int k = 0; k <= 4; k++)
        {
            double v = lo + k * (hi - lo) / 4;
            svg.Append(I($"<line x1='{L}' x2='{W - R}' y1='{Y(v):F1}' y2='{Y(v):F1}' stroke='#ddd'/><text x='{L - 6}' y='{Y(v) + 4:F1}' text-anchor='end'>{v:G3}</text>"));
        }
        int step = Math.Max(1, (n + 9) / 10);
        for (int i = 0; i < n; i += step)
            svg.Append(I($"<text x='{X(i):F1}' y='{H - B + 16}' text-anchor='middle'>{i + 1}</text>"));
        svg.Append(I($"<line x1='{L}' x2='{W - R}' y1='{H - B}' y2='{H - B}' stroke='#333'/><line x1='{L}' x2='{L}' y1='{T}' y2='{H - B}' stroke='#333'/>"));
        svg.Append(I($"<text x='{(W - R + L) / 2}' y='{H - 8}' text-anchor='middle'>{Esc(xLabel)}</text>"));
        svg.Append(I($"<text transform='translate(16 {(H - B + T) / 2}) rotate(-90)' text-anchor='middle'>{Esc(yLabel)}</text>"));
        for (int s = 0; s < series.Length; s++)
        {
            var color = Colors[s % Colors.Length];
            var points = string.Join(" ", series[s].Values.Select((v, i) => I($"{X(i):F1},{Y(v):F1}")));
            svg.Append(I($"<polyline fill='none' stroke='{color}' stroke-width='2' points='{points}'/>"));
            svg.Append(I($"<rect x='{W - R + 14}' y='{T + 18 * s}' width='14' height='4' fill='{color}'/><text x='{W - R + 34}' y='{T + 18 * s + 6}'>{Esc(series[s].Name)}</text>"));
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A confusion matrix: rows are true classes, columns predicted ones; shading is the row's share.</summary>
    public static string ConfusionMatrix(string title, IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<double>> counts)
    {
        int k = labels.Count, cell = Math.Clamp(320 / Math.Max(1, k), 28, 64), L = 110, T = 60;
        int W = L + k * cell + 20, H = T + k * cell + 50;
        var svg = new StringBuilder(I($"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='12'>"));
        svg.Append(I($"<text x='{W / 2}' y='20' text-anchor='middle' font-size='15'>{Esc(title)}</text>"));
        svg.Append(I($"<text x='{L + k * cell / 2}' y='{T - 24}' text-anchor='middle'>predicted</text>"));
        svg.Append(I($"<text transform='translate(14 {T + k * cell / 2}) rotate(-90)' text-anchor='middle'>true</text>"));
        for (int r = 0; r < k; r++)
        {
            double total = Math.Max(1, counts[r].Sum());
            svg.Append(I($"<text x='{L - 6}' y='{T + r * cell + cell / 2 + 4}' text-anchor='end'>{Esc(labels[r])}</text>"));
            svg.Append(I($"<text x='{L + r * cell + cell / 2}' y='{T - 6}' text-anchor='middle'>{Esc(labels[r])}</text>"));
            for (int c = 0; c < k; c++)
            {
                double share = counts[r][c] / total;
                int shade = (int)Math.Round(255 - 200 * share);
                svg.Append(I($"<rect x='{L + c * cell}' y='{T + r * cell}' width='{cell}' height='{cell}' fill='rgb({shade},{shade},255)' stroke='#fff'/>"));
                svg.Append(I($"<text x='{L + c * cell + cell / 2}' y='{T + r * cell + cell / 2 + 4}' text-anchor='middle' fill='{(share > 0.6 ? "#fff" : "#000")}'>{counts[r][c]:0}</text>"));
            }
        }
        return svg.Append("</svg>").ToString();
    }

    private static string I(FormattableString s) => FormattableString.Invariant(s);
    private static string Esc(string s) => System.Net.WebUtility.HtmlEncode(s);
}

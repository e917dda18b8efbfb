using System.Globalization;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Cli.Pooling;

/// <summary>Prints multiclass metrics: top-1 (and top-5, beyond five classes), per-class recall, and the confusion matrix (rows: true class).</summary>
internal static class ClassificationReport
{
    public static void Print(TextWriter writer, MulticlassClassificationMetrics metrics, IReadOnlyList<string> classes, int examples)
    {
        var inv = CultureInfo.InvariantCulture;
        writer.WriteLine(string.Format(inv, "examples: {0}, classes: {1}", examples, classes.Count));
        writer.WriteLine(string.Format(inv, "top-1 accuracy: {0:P1}", metrics.MicroAccuracy));
        if (classes.Count > 5 && metrics.TopKPredictionCount == 5)   // of five classes, the true one is always in the top five
            writer.WriteLine(string.Format(inv, "top-5 accuracy: {0:P1}", metrics.TopKAccuracy));
        writer.WriteLine(string.Format(inv, "macro accuracy (mean per-class recall): {0:P1}, log-loss: {1:F4}", metrics.MacroAccuracy, metrics.LogLoss));

        var matrix = metrics.ConfusionMatrix;
        int width = Math.Max(8, classes.Max(c => c.Length) + 1);
        writer.WriteLine("per-class recall:");
        for (int i = 0; i < classes.Count; i++)
        {
            // A class the data has no example of has no recall (ML.NET says 0): it is not a class the model always misses.
            double count = matrix.Counts[i].Sum();
            writer.WriteLine(count == 0
                ? $"  {classes[i].PadRight(width)} {"-",7}  (no examples)"
                : string.Format(inv, "  {0} {1,7:P1}  ({2:0} example{3})", classes[i].PadRight(width), matrix.PerClassRecall[i], count, count == 1 ? "" : "s"));
        }

        writer.WriteLine("confusion matrix (rows: true class, columns: predicted):");
        writer.WriteLine("  " + "".PadRight(width) + string.Concat(classes.Select(c => c.PadLeft(width))));
        for (int i = 0; i < classes.Count; i++)
            writer.WriteLine("  " + classes[i].PadRight(width) + string.Concat(matrix.Counts[i].Select(v => v.ToString("0", inv).PadLeft(width))));
    }
}

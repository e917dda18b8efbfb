namespace CoCa.MLNet.Tests.Onnx;

/// <summary>Largest per-row relative error ‖a−b‖/‖b‖ (the project's accuracy measure).</summary>
internal static class RowError
{
    public static double Max(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, int rows)
    {
        Assert.Equal(expected.Length, actual.Length);
        int n = expected.Length / rows;
        double worst = 0;
        for (int r = 0; r < rows; r++)
        {
            double num = 0, den = 0;
            for (int i = r * n; i < (r + 1) * n; i++)
            {
                double d = actual[i] - expected[i];
                num += d * d;
                den += expected[i] * expected[i];
            }
            worst = Math.Max(worst, Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30));
        }
        return worst;
    }

    public static double Max(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int rows)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        return Max(actual, e, rows);
    }

    public static double Max(ReadOnlySpan<double> actual, ReadOnlySpan<float> expected, int rows)
    {
        double worst = 0;
        int n = expected.Length / rows;
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < rows; r++)
        {
            double num = 0, den = 0;
            for (int i = r * n; i < (r + 1) * n; i++)
            {
                double d = actual[i] - expected[i];
                num += d * d;
                den += (double)expected[i] * expected[i];
            }
            worst = Math.Max(worst, Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30));
        }
        return worst;
    }
}

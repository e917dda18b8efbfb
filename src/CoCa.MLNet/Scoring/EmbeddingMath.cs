namespace CoCa.MLNet.Scoring;

/// <summary>The vector arithmetic of zero-shot classification and retrieval (in double, rounded once).</summary>
internal static class EmbeddingMath
{
    /// <summary>PyTorch's F.normalize epsilon: a zero vector stays zero instead of becoming NaN.</summary>
    public const double NormEpsilon = 1e-12;

    /// <summary>x / max(‖x‖, ε), as open_clip's F.normalize(x, dim=-1).</summary>
    public static float[] Normalized(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (var v in x) sum += (double)v * v;
        double scale = 1 / Math.Max(Math.Sqrt(sum), NormEpsilon);
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * scale);
        return y;
    }

    /// <summary>x / max(‖x‖, ε) kept in double (for ranking: no rounding that could turn near-ties into ties).</summary>
    public static double[] UnitDouble(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (var v in x) sum += (double)v * v;
        double scale = 1 / Math.Max(Math.Sqrt(sum), NormEpsilon);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * scale;
        return y;
    }

    /// <summary>
    /// Refuses an embedding holding NaN or ±Infinity, naming it: ranked or scored, NaN compares false with everything
    /// and would pass as a hit or as the first class. Such embeddings come from NaN or infinite weights.
    /// </summary>
    public static void RequireFinite(ReadOnlySpan<float> x, string what)
    {
        int bad = IndexOfNonFinite(x);
        if (bad >= 0)
            throw new ArgumentException(
                $"The {what} holds {x[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} at value {bad}: the model gives non-finite embeddings " +
                "(NaN or infinite weights, e.g. a fine-tune that diverged), which cannot be ranked or scored; use a model with finite weights.");
    }

    /// <summary>The index of the first NaN or ±Infinity in <paramref name="x"/>, or −1.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> x)
    {
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i])) return i;
        return -1;
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary>Cosine similarity a·b / (‖a‖‖b‖), in double (e.g. int8 vs fp32 features).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        Dot(a, b) / Math.Max(Math.Sqrt(Dot(a, a) * Dot(b, b)), NormEpsilon);

    /// <summary>Softmax of <paramref name="logits"/> into float probabilities (max-subtracted, in double).</summary>
    public static float[] Softmax(ReadOnlySpan<double> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        var exp = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += exp[i] = Math.Exp(logits[i] - max);
        var p = new float[logits.Length];
        for (int i = 0; i < p.Length; i++) p[i] = (float)(exp[i] / sum);
        return p;
    }
}

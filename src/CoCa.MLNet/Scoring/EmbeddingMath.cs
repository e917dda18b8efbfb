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

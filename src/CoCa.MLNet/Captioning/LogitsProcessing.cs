namespace CoCa.MLNet.Captioning;

/// <summary>
/// Hugging Face's logits processors and warpers as open_clip's <c>generate()</c> uses them, on one row of scores
/// (float32, as transformers computes them).
/// </summary>
internal static class LogitsProcessing
{
    /// <summary>
    /// <c>RepetitionPenaltyLogitsProcessor</c>: the score of every token in <paramref name="previous"/> is divided by
    /// <paramref name="penalty"/> when positive, multiplied when negative (once per distinct token).
    /// </summary>
    public static void RepetitionPenalty(Span<float> scores, ReadOnlySpan<long> previous, double penalty)
    {
        if (penalty == 1.0) return;
        var seen = new HashSet<long>();
        float p = (float)penalty;
        foreach (var id in previous)
        {
            if (!seen.Add(id)) continue;
            var s = scores[(int)id];
            scores[(int)id] = s < 0 ? s * p : s / p;
        }
    }

    /// <summary><c>MinLengthLogitsProcessor</c>: the end token is impossible while the sequence is shorter than the minimum.</summary>
    public static void MinLength(Span<float> scores, int length, int minLength, int endTokenId)
    {
        if (length < minLength) scores[endTokenId] = float.NegativeInfinity;
    }

    /// <summary>log_softmax in place (max-shifted, sums in float64, results rounded to float32).</summary>
    public static void LogSoftmax(Span<float> scores)
    {
        float max = float.NegativeInfinity;
        foreach (var s in scores) if (s > max) max = s;
        double sum = 0;
        foreach (var s in scores) sum += Math.Exp(s - (double)max);
        double logSum = Math.Log(sum);
        for (int i = 0; i < scores.Length; i++) scores[i] = (float)(scores[i] - (double)max - logSum);
    }

    /// <summary>Index of the largest score (the first one on ties, as torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        return best;
    }

    /// <summary><c>TopKLogitsWarper</c>: scores below the k-th largest become −∞ (ties with it are kept).</summary>
    public static void TopK(Span<float> scores, int k)
    {
        if (k >= scores.Length) return;
        var sorted = scores.ToArray();
        Array.Sort(sorted);
        float kth = sorted[sorted.Length - k];
        for (int i = 0; i < scores.Length; i++) if (scores[i] < kth) scores[i] = float.NegativeInfinity;
    }

    /// <summary>
    /// <c>TopPLogitsWarper</c>: in ascending order of score, tokens whose cumulative probability is at most 1 − p are
    /// removed (the most likely token always stays).
    /// </summary>
    public static void TopP(Span<float> scores, double p)
    {
        if (p >= 1.0) return;
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var keys = scores.ToArray();
        Array.Sort(keys, order);                                // ascending
        var probs = Softmax(keys);
        double cumulative = 0;
        for (int j = 0; j < order.Length - 1; j++)
        {
            cumulative += probs[j];
            if (cumulative <= 1 - p) scores[order[j]] = float.NegativeInfinity;
            else break;
        }
    }

    /// <summary>softmax in float64.</summary>
    public static double[] Softmax(ReadOnlySpan<float> scores)
    {
        float max = float.NegativeInfinity;
        foreach (var s in scores) if (s > max) max = s;
        var p = new double[scores.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp(scores[i] - (double)max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>One draw from softmax(scores) (torch.multinomial's role; our own random stream).</summary>
    public static int Sample(ReadOnlySpan<float> scores, Random random)
    {
        var p = Softmax(scores);
        double u = random.NextDouble(), cumulative = 0;
        int last = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0) continue;
            last = i;
            cumulative += p[i];
            if (u < cumulative) return i;
        }
        return last;
    }
}

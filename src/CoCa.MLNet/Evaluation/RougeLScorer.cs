namespace CoCa.MLNet.Evaluation;

/// <summary>
/// pycocoevalcap's ROUGE-L (rouge/rouge.py): per image, the longest common subsequence with each reference, the best
/// precision and the best recall over the references (each maximized on its own), F with β = 1.2; the corpus score is the
/// mean over images. Words are the caption split on single spaces, as rouge.py splits: an empty caption is one empty word.
/// </summary>
internal static class RougeLScorer
{
    private const double Beta = 1.2;

    public static double Score(IReadOnlyList<string> candidate, IReadOnlyList<IReadOnlyList<string>> references)
    {
        double bestPrecision = 0, bestRecall = 0;
        foreach (var reference in references)
        {
            int lcs = LongestCommonSubsequence(reference, candidate);
            bestPrecision = Math.Max(bestPrecision, lcs / (double)candidate.Count);
            bestRecall = Math.Max(bestRecall, lcs / (double)reference.Count);
        }
        if (bestPrecision == 0 || bestRecall == 0) return 0;
        return (1 + Beta * Beta) * bestPrecision * bestRecall / (bestRecall + Beta * Beta * bestPrecision);
    }

    /// <summary>The words of a tokenized caption as rouge.py takes them: <c>caption.split(" ")</c>.</summary>
    public static string[] Words(string tokenized) => tokenized.Split(' ');

    private static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// pycocoevalcap's BLEU (bleu/bleu_scorer.py, <c>compute_score(option='closest')</c>): clipped n-gram matches and
/// guesses summed over the corpus, the brevity penalty from the summed reference lengths where each image's reference
/// length is the one closest to its candidate's (the shorter on a tie), and the scorer's own smoothing constants.
/// Also each image's BLEU computed the same way on that image alone.
/// </summary>
internal static class BleuScorer
{
    public const int MaxOrder = 4;
    private const double Tiny = 1e-15; // so that a zero match count still gives 0
    private const double Small = 1e-9;

    /// <summary>Corpus BLEU-1..4 and, per image (in input order), BLEU-1..4.</summary>
    public static (double[] Corpus, double[][] PerImage) Score(IReadOnlyList<(IReadOnlyList<string> Candidate, IReadOnlyList<IReadOnlyList<string>> References)> images)
    {
        long testLength = 0, referenceLength = 0;
        var guess = new long[MaxOrder];
        var correct = new long[MaxOrder];
        var perImage = new double[images.Count][];
        for (int i = 0; i < images.Count; i++)
        {
            var (candidate, references) = images[i];
            var test = NGramCounts.Of(candidate, MaxOrder);
            var maxCounts = new Dictionary<string, int>[MaxOrder];
            for (int k = 0; k < MaxOrder; k++) maxCounts[k] = new(StringComparer.Ordinal);
            foreach (var reference in references)
            {
                var counts = NGramCounts.Of(reference, MaxOrder);
                for (int k = 0; k < MaxOrder; k++)
                    foreach (var (gram, count) in counts.ByOrder[k])
                        maxCounts[k][gram] = Math.Max(maxCounts[k].GetValueOrDefault(gram), count);
            }
            int closest = ClosestLength(references.Select(r => r.Count), test.Words);
            var imageGuess = new long[MaxOrder];
            var imageCorrect = new long[MaxOrder];
            for (int k = 0; k < MaxOrder; k++)
            {
                imageGuess[k] = Math.Max(0, test.Words - k);
                foreach (var (gram, count) in test.ByOrder[k])
                    imageCorrect[k] += Math.Min(maxCounts[k].GetValueOrDefault(gram), count);
                guess[k] += imageGuess[k];
                correct[k] += imageCorrect[k];
            }
            testLength += test.Words;
            referenceLength += closest;
            perImage[i] = Bleu(imageCorrect, imageGuess, test.Words, closest);
        }
        return (Bleu(correct, guess, testLength, referenceLength), perImage);
    }

    /// <summary>min((|l − testlen|, l)) over the reference lengths l: the closest, the shorter on a tie.</summary>
    private static int ClosestLength(IEnumerable<int> lengths, int testLength) =>
        lengths.OrderBy(l => Math.Abs(l - testLength)).ThenBy(l => l).First();

    private static double[] Bleu(long[] correct, long[] guess, long testLength, long referenceLength)
    {
        var bleus = new double[MaxOrder];
        double product = 1;
        for (int k = 0; k < MaxOrder; k++)
        {
            product *= (correct[k] + Tiny) / (guess[k] + Small);
            bleus[k] = Math.Pow(product, 1.0 / (k + 1));
        }
        double ratio = (testLength + Tiny) / (referenceLength + Small);
        if (ratio < 1)
            for (int k = 0; k < MaxOrder; k++) bleus[k] *= Math.Exp(1 - 1 / ratio);
        return bleus;
    }
}

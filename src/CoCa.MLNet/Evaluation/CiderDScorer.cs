namespace CoCa.MLNet.Evaluation;

/// <summary>
/// pycocoevalcap's CIDEr-D (cider/cider_scorer.py, <c>Cider()</c>): n = 1..4; document frequencies counted over the
/// evaluated images' references (an n-gram counts once per image); TF-IDF vectors with idf = log(images) − log(max(1, df));
/// per order the clipped cosine Σ min(hyp, ref)·ref / (‖hyp‖‖ref‖) times the Gaussian length penalty
/// exp(−δ²/2σ²), σ = 6, where δ is the difference of the captions' bigram counts (cider_scorer.py counts "length" on
/// order index 1); the mean over orders, averaged over the references, times 10. The corpus score is the mean over images.
/// With a single image every idf is 0, so CIDEr is 0: it is a measure over a set of images.
/// </summary>
internal static class CiderDScorer
{
    private const int MaxOrder = 4;
    private const double Sigma = 6.0;

    /// <summary>Per image (in input order), CIDEr-D.</summary>
    public static double[] Score(IReadOnlyList<(IReadOnlyList<string> Candidate, IReadOnlyList<IReadOnlyList<string>> References)> images)
    {
        var candidates = images.Select(x => NGramCounts.Of(x.Candidate, MaxOrder)).ToList();
        var references = images.Select(x => x.References.Select(r => NGramCounts.Of(r, MaxOrder)).ToList()).ToList();

        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var imageReferences in references)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var counts in imageReferences)
                foreach (var order in counts.ByOrder)
                    foreach (var gram in order.Keys)
                        if (seen.Add(gram)) documentFrequency[gram] = documentFrequency.GetValueOrDefault(gram) + 1;
        }
        double referenceLength = Math.Log(images.Count);

        var scores = new double[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var hypothesis = Vector(candidates[i], documentFrequency, referenceLength);
            var sum = new double[MaxOrder];
            foreach (var reference in references[i])
            {
                var r = Vector(reference, documentFrequency, referenceLength);
                double delta = hypothesis.Bigrams - r.Bigrams;
                double penalty = Math.Exp(-(delta * delta) / (2 * Sigma * Sigma));
                for (int n = 0; n < MaxOrder; n++)
                {
                    double value = 0;
                    foreach (var (gram, weight) in hypothesis.Weights[n])
                    {
                        double referenceWeight = r.Weights[n].GetValueOrDefault(gram);
                        value += Math.Min(weight, referenceWeight) * referenceWeight;
                    }
                    if (hypothesis.Norms[n] != 0 && r.Norms[n] != 0) value /= hypothesis.Norms[n] * r.Norms[n];
                    sum[n] += value * penalty;
                }
            }
            scores[i] = sum.Average() / references[i].Count * 10.0;
        }
        return scores;
    }

    private sealed record TfIdf(Dictionary<string, double>[] Weights, double[] Norms, int Bigrams);

    /// <summary>cider_scorer.py's <c>counts2vec</c>: tf·(log(images) − log(max(1, df))) per n-gram, the norms, the bigram count.</summary>
    private static TfIdf Vector(NGramCounts counts, Dictionary<string, int> documentFrequency, double referenceLength)
    {
        var weights = new Dictionary<string, double>[MaxOrder];
        var norms = new double[MaxOrder];
        for (int n = 0; n < MaxOrder; n++)
        {
            weights[n] = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (gram, termFrequency) in counts.ByOrder[n])
            {
                double df = Math.Log(Math.Max(1.0, documentFrequency.GetValueOrDefault(gram)));
                double w = termFrequency * (referenceLength - df);
                weights[n][gram] = w;
                norms[n] += w * w;
            }
            norms[n] = Math.Sqrt(norms[n]);
        }
        return new TfIdf(weights, norms, counts.ByOrder[1].Values.Sum());
    }
}

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// The 1- to n-gram counts of a tokenized caption (pycocoevalcap's <c>precook</c>), one dictionary per order; an n-gram
/// is its words joined by single spaces (words hold no whitespace, so the key is unambiguous).
/// </summary>
internal sealed class NGramCounts
{
    private NGramCounts(Dictionary<string, int>[] byOrder, int words)
    {
        ByOrder = byOrder;
        Words = words;
    }

    /// <summary>ByOrder[k - 1]: the k-grams and their counts.</summary>
    public Dictionary<string, int>[] ByOrder { get; }

    /// <summary>The number of words.</summary>
    public int Words { get; }

    public static NGramCounts Of(IReadOnlyList<string> words, int maxOrder)
    {
        var byOrder = new Dictionary<string, int>[maxOrder];
        for (int k = 1; k <= maxOrder; k++)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i + k <= words.Count; i++)
            {
                var key = k == 1 ? words[i] : string.Join(' ', words.Skip(i).Take(k));
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
            byOrder[k - 1] = counts;
        }
        return new NGramCounts(byOrder, words.Count);
    }
}

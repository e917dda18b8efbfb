using CoCa.MLNet.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Scoring;

/// <summary>One retrieved gallery item: its row index in the gallery and its cosine similarity to the query.</summary>
public readonly record struct RetrievalMatch(int Index, float Similarity);

/// <summary>
/// Image↔text retrieval over CoCa embeddings: for each query, the k gallery items of highest cosine similarity
/// (both sides L2-normalized, as open_clip's retrieval evaluation does). Text→image: queries are text embeddings and
/// the gallery image (or video) embeddings; image→text the other way round. Ties go to the lower gallery index.
/// </summary>
public static class CoCaRetrieval
{
    /// <summary>Top-<paramref name="k"/> matches per query (fewer when the gallery is smaller), best first.</summary>
    public static RetrievalMatch[][] TopK(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> gallery, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (gallery.Count == 0) return queries.Select(_ => Array.Empty<RetrievalMatch>()).ToArray();
        int dim = gallery[0].Length;
        var g = gallery.Select((x, i) => EmbeddingMath.Normalized(Checked(x, dim, $"gallery embedding {i}"))).ToArray();
        int take = Math.Min(k, g.Length);
        var units = queries.Select((x, q) => EmbeddingMath.Normalized(Checked(x, dim, $"query embedding {q}"))).ToArray();
        var result = new RetrievalMatch[queries.Count][];
        Parallel.For(0, queries.Count, q =>
        {
            var unit = units[q];
            var sims = new double[g.Length];
            for (int i = 0; i < g.Length; i++) sims[i] = EmbeddingMath.Dot(unit, g[i]);
            result[q] = Enumerable.Range(0, g.Length)
                .OrderByDescending(i => sims[i]).ThenBy(i => i)
                .Take(take)
                .Select(i => new RetrievalMatch(i, (float)sims[i]))
                .ToArray();
        });
        return result;
    }

    /// <summary>Top-<paramref name="k"/> matches between embedding columns of two data views (e.g. featurized captions and images).</summary>
    public static RetrievalMatch[][] TopK(IDataView queries, string queryColumn, IDataView gallery, string galleryColumn, int k) =>
        TopK(ReadEmbeddings(queries, queryColumn), ReadEmbeddings(gallery, galleryColumn), k);

    /// <summary>Cosine similarities [queries, gallery], row-major.</summary>
    public static float[] CosineSimilarities(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> gallery)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(gallery);
        if (gallery.Count == 0 || queries.Count == 0) return [];
        int dim = gallery[0].Length;
        var g = gallery.Select((x, i) => EmbeddingMath.Normalized(Checked(x, dim, $"gallery embedding {i}"))).ToArray();
        var result = new float[queries.Count * g.Length];
        for (int q = 0; q < queries.Count; q++)
        {
            var unit = EmbeddingMath.Normalized(Checked(queries[q], dim, $"query embedding {q}"));
            for (int i = 0; i < g.Length; i++) result[q * g.Length + i] = (float)EmbeddingMath.Dot(unit, g[i]);
        }
        return result;
    }

    /// <summary>The float-vector column <paramref name="column"/> of every row, in order.</summary>
    public static float[][] ReadEmbeddings(IDataView data, string column) => FloatVectorColumn.Read(data, column);

    private static float[] Checked(float[] x, int dim, string what)
    {
        if (x is null) throw new ArgumentException($"The {what} is null.");
        if (x.Length != dim) throw new ArgumentException($"The {what} has {x.Length} values; the gallery's embeddings have {dim}.");
        return x;
    }
}

using System.Numerics.Tensors;
using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Scoring;

/// <summary>One retrieved gallery item: its row index in the gallery and its cosine similarity to the query.</summary>
public readonly record struct RetrievalMatch(int Index, float Similarity);

/// <summary>
/// Image↔text retrieval over CoCa embeddings: for each query, the k gallery items of highest cosine similarity
/// (both sides L2-normalized, as open_clip's retrieval evaluation does). Text→image: queries are text embeddings and
/// the gallery image (or video) embeddings; image→text the other way round. Ties go to the lower gallery index.
/// <see cref="Recall(IReadOnlyList{float[]}, IReadOnlyList{float[]}, IReadOnlyList{int})"/> measures a paired set as
/// the paper does (R@1/5/10, several captions per image). An embedding holding NaN or ±Infinity is refused, naming it:
/// it would otherwise compare false with everything and rank as a hit.
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
        int dim = gallery[0]?.Length ?? 0;   // a null first embedding is named by Checked
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
        int dim = gallery[0]?.Length ?? 0;   // a null first embedding is named by Checked
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

    /// <summary>
    /// Recall@1/5/10 of image↔text retrieval over a paired set, as the paper measures it (see <see cref="RetrievalRecall"/>):
    /// <paramref name="images"/> are the distinct images' (or videos' mean frame) embeddings, <paramref name="captions"/>
    /// the caption embeddings, and <paramref name="captionImage"/>[j] the index in <paramref name="images"/> of caption
    /// j's image (several captions may share an image; every image needs at least one). Cosine similarity of the
    /// L2-normalized embeddings; a candidate scoring exactly as much as the right answer ranks ahead of it.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, an image has no caption, or an embedding holds NaN or ±Infinity.</exception>
    public static RetrievalRecall Recall(IReadOnlyList<float[]> images, IReadOnlyList<float[]> captions, IReadOnlyList<int> captionImage)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(captionImage);
        if (images.Count == 0) throw new ArgumentException("Retrieval recall needs at least one image (or video) embedding.", nameof(images));
        int dim = images[0]?.Length ?? 0;
        var imageUnits = images.Select((x, i) => Unit(x, dim, $"image embedding {i}")).ToArray();
        var captionUnits = captions.Select((x, j) => Unit(x, dim, $"caption embedding {j}")).ToArray();
        return RecallOfUnits(imageUnits, captionUnits, captionImage);
    }

    /// <summary>
    /// <see cref="Recall(IReadOnlyList{float[]}, IReadOnlyList{float[]}, IReadOnlyList{int})"/> over row-major
    /// [images, E] and [captions, E] arrays, as the featurizers outside ML.NET return them (e.g. the mean frame
    /// embeddings of <c>CoCaVideoFeatureExtractor.Extract</c> and the text embeddings of <c>CoCaTextFeatureExtractor.Embed</c>).
    /// </summary>
    public static RetrievalRecall Recall(float[] images, float[] captions, int embeddingDim, IReadOnlyList<int> captionImage)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingDim, 1);
        if (images.Length % embeddingDim != 0 || captions.Length % embeddingDim != 0)
            throw new ArgumentException($"Embeddings of {embeddingDim} values: the image array has {images.Length} values and the caption array {captions.Length}; both must be whole rows.");
        return Recall(Rows(images, embeddingDim), Rows(captions, embeddingDim), captionImage);
    }

    /// <summary>
    /// <see cref="Recall(IReadOnlyList{float[]}, IReadOnlyList{float[]}, IReadOnlyList{int})"/> over embedding columns of
    /// two data views: one row per image (or video), one row per caption.
    /// </summary>
    public static RetrievalRecall Recall(IDataView images, string imageColumn, IDataView captions, string captionColumn, IReadOnlyList<int> captionImage) =>
        Recall(ReadEmbeddings(images, imageColumn), ReadEmbeddings(captions, captionColumn), captionImage);

    private static RetrievalRecall RecallOfUnits(double[][] images, double[][] captions, IReadOnlyList<int> captionImage)
    {
        if (captionImage.Count != captions.Length)
            throw new ArgumentException($"{captions.Length} caption embeddings but {captionImage.Count} caption→image indices; give one index per caption.", nameof(captionImage));
        var captionsOf = new List<int>[images.Length];
        for (int i = 0; i < images.Length; i++) captionsOf[i] = [];
        for (int j = 0; j < captionImage.Count; j++)
        {
            int image = captionImage[j];
            if (image < 0 || image >= images.Length)
                throw new ArgumentException($"Caption {j} belongs to image {image}, but there are {images.Length} images (indices 0..{images.Length - 1}).", nameof(captionImage));
            captionsOf[image].Add(j);
        }
        for (int i = 0; i < images.Length; i++)
            if (captionsOf[i].Count == 0)
                throw new ArgumentException($"Image {i} has no caption; every image of a retrieval set needs at least one.", nameof(captionImage));

        // Rank of the right answer = how many wrong candidates score at least as much (ties rank ahead: never a hit).
        var imageRanks = new int[images.Length];
        Parallel.For(0, images.Length, i =>
        {
            var own = captionsOf[i];
            double best = double.NegativeInfinity;
            foreach (int j in own) best = Math.Max(best, TensorPrimitives.Dot<double>(images[i], captions[j]));
            int ahead = 0;
            for (int j = 0; j < captions.Length; j++)
                if (captionImage[j] != i && TensorPrimitives.Dot<double>(images[i], captions[j]) >= best) ahead++;
            imageRanks[i] = ahead;
        });
        var captionRanks = new int[captions.Length];
        Parallel.For(0, captions.Length, j =>
        {
            int own = captionImage[j];
            double right = TensorPrimitives.Dot<double>(captions[j], images[own]);
            int ahead = 0;
            for (int i = 0; i < images.Length; i++)
                if (i != own && TensorPrimitives.Dot<double>(captions[j], images[i]) >= right) ahead++;
            captionRanks[j] = ahead;
        });
        static double Share(int[] ranks, int k) => (double)ranks.Count(r => r < k) / ranks.Length;
        return new RetrievalRecall(images.Length, captions.Length,
            Share(imageRanks, 1), Share(imageRanks, 5), Share(imageRanks, 10),
            Share(captionRanks, 1), Share(captionRanks, 5), Share(captionRanks, 10))
        {
            ImageToTextRanks = captions.Length - captionsOf.Min(c => c.Count) + 1,
        };
    }

    private static float[][] Rows(float[] flat, int dim)
    {
        var rows = new float[flat.Length / dim][];
        for (int r = 0; r < rows.Length; r++) rows[r] = flat.AsSpan(r * dim, dim).ToArray();
        return rows;
    }

    private static double[] Unit(float[] x, int dim, string what) => EmbeddingMath.UnitDouble(Checked(x, dim, what));

    private static float[] Checked(float[] x, int dim, string what)
    {
        if (x is null) throw new ArgumentException($"The {what} is null.");
        if (x.Length != dim) throw new ArgumentException($"The {what} has {x.Length} values; the gallery's embeddings have {dim}.");
        EmbeddingMath.RequireFinite(x, what);
        return x;
    }
}

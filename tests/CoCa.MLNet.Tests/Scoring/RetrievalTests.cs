using CoCa.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Scoring;

public class RetrievalTests
{
    [Fact]
    public void TopKRanksByCosineNotByLength()
    {
        float[][] gallery = [[10, 0], [1, 1], [0, 0.1f], [-1, 0]];
        float[][] queries = [[1, 0.1f], [0, 5]];
        var hits = CoCaRetrieval.TopK(queries, gallery, k: 2);
        Assert.Equal(new[] { 0, 1 }, hits[0].Select(h => h.Index));
        Assert.Equal(new[] { 2, 1 }, hits[1].Select(h => h.Index));
        Assert.Equal(1f, hits[1][0].Similarity, 6);
        Assert.Equal((float)Math.Sqrt(0.5), hits[1][1].Similarity, 6);

        // k beyond the gallery returns the whole gallery, worst last; ties keep gallery order.
        var all = CoCaRetrieval.TopK([[0, 1]], [[1, 0], [-1, 0], [0, 2]], k: 10)[0];
        Assert.Equal(new[] { 2, 0, 1 }, all.Select(h => h.Index));
    }

    [Fact]
    public void MismatchedDimensionsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => CoCaRetrieval.TopK([[1, 2, 3]], [[1, 0], [0, 1]], 1));
        Assert.Contains("query embedding 0 has 3 values", e.Message);
    }

    [Fact]
    public void ANullEmbedding_IsNamed_NotANullReferenceException()
    {
        // gallery[0] null: its length was read before the check that names it.
        float[][] gallery = [null!, [0, 1]];
        Assert.Contains("gallery embedding 0 is null", Assert.Throws<ArgumentException>(() => CoCaRetrieval.TopK([[1, 0]], gallery, 1)).Message);
        Assert.Contains("gallery embedding 0 is null", Assert.Throws<ArgumentException>(() => CoCaRetrieval.CosineSimilarities([[1, 0]], gallery)).Message);
        Assert.Contains("query embedding 0 is null", Assert.Throws<ArgumentException>(() => CoCaRetrieval.TopK([null!], [[1, 0]], 1)).Message);
    }

    [Fact]
    public void TopKAndSimilarities_RefuseNonFiniteEmbeddings()
    {
        // NaN compares false with everything: ranked, it would pass for a match.
        var nan = Assert.Throws<ArgumentException>(() => CoCaRetrieval.TopK([[1, 0], [float.NaN, 0]], [[1, 0], [0, 1]], 1));
        Assert.Contains("query embedding 1 holds NaN", nan.Message);
        var inf = Assert.Throws<ArgumentException>(() => CoCaRetrieval.CosineSimilarities([[1, 0]], [[1, 0], [0, float.PositiveInfinity]]));
        Assert.Contains("gallery embedding 1 holds ∞", inf.Message.Replace("Infinity", "∞"));
    }

    /// <summary>
    /// 3 images, 5 captions each, one-hot-like 3-d embeddings whose ties are exact. Ranks by hand (candidates scoring at
    /// least the right answer's score, ties ahead):
    /// text→image: a1 0, a2 1 (A and B tie at 1/√2), a3 2, a4 0, a5 2; b1 b2 b3 b5 0, b4 2 (all three tie);
    /// c1..c5 2 each (C scores 0, as does one other image, and the third scores 1) → R@1 6/15, R@5 = R@10 = 1.
    /// image→text: A's best own caption scores 1 and c1 c3 c4 score 1 too → rank 3; B likewise (a3 c2 c5) → 3;
    /// C's own captions all score 0 and all ten others score ≥ 0 → rank 10 → R@1 0, R@5 = R@10 = 2/3.
    /// </summary>
    [Fact]
    public void Recall_FiveCaptionsPerImage_WithTies_EqualsTheHandCount()
    {
        float[][] images = [[1, 0, 0], [0, 2, 0], [0, 0, 0.5f]];
        float[][] captions =
        [
            [1, 0, 0], [1, 1, 0], [0, 1, 0], [3, 0, 0], [0, 0, 1],   // a1..a5 (image A)
            [0, 1, 0], [0, 1, 0], [0, 4, 0], [1, 1, 1], [0, 1, 0],   // b1..b5 (image B)
            [1, 0, 0], [0, 1, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0],   // c1..c5 (image C)
        ];
        int[] captionImage = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
        var r = CoCaRetrieval.Recall(images, captions, captionImage);
        Assert.Equal((3, 15), (r.Images, r.Captions));
        Assert.Equal(6.0 / 15, r.TextToImageAt1, 12);
        Assert.Equal(1.0, r.TextToImageAt5, 12);
        Assert.Equal(1.0, r.TextToImageAt10, 12);
        Assert.Equal(0.0, r.ImageToTextAt1, 12);
        Assert.Equal(2.0 / 3, r.ImageToTextAt5, 12);
        Assert.Equal(2.0 / 3, r.ImageToTextAt10, 12);
        // Three images: a caption's own image is always in its top 5, whatever the model; an image's own captions can
        // rank from 1st to 11th (10 wrong captions), so image→text R@10 still measures something.
        Assert.Equal((11, 3), (r.ImageToTextRanks, r.TextToImageRanks));
        Assert.Equal([true, true, true, true, false, false], new[] { r.IsMeasured(1, true), r.IsMeasured(5, true), r.IsMeasured(10, true), r.IsMeasured(1, false), r.IsMeasured(5, false), r.IsMeasured(10, false) });
        Assert.Equal("image→text R@1 0.0 % R@5 66.7 % R@10 66.7 %, text→image R@1 40.0 % R@5 n/a (3 candidates) R@10 n/a (3 candidates)", r.ToString());

        // Rows in any order: the same recall (an image is its index, not its position among the rows).
        var order = new[] { 14, 3, 7, 0, 9, 12, 1, 5, 10, 2, 6, 13, 4, 8, 11 };
        var shuffled = CoCaRetrieval.Recall(images, order.Select(i => captions[i]).ToList(), order.Select(i => captionImage[i]).ToList());
        Assert.Equal(r, shuffled);
    }

    /// <summary>
    /// 12 images at 0°, 10°, …, 110° on a circle, one caption each, no ties; cosine falls with the angle between them.
    /// Captions at 0, 33, 20, 72, 40, 50, 60, 70, 80, 90, 100, 1 degrees. Ranks by hand:
    /// text→image: caption 1 (33°, own image 10°: 23° away) has images 20 30 40 50 closer → 4; caption 3 (72°, own 30°:
    /// 42°) has 40…110 closer → 8; caption 11 (1°, own 110°) has all 11 others closer → 11; the rest 0.
    /// image→text: image 1 (10°; own caption 23° away) has captions at 0 20 1 closer → 3; image 3 (30°; own 42° away) has
    /// 0 33 20 40 50 60 70 1 → 8; image 11 (110°; own 109° away) has every other caption but the one at 0° → 10 (a miss
    /// even at 10).
    /// </summary>
    [Fact]
    public void Recall_AtOneFiveAndTen_EqualsTheHandCount()
    {
        static float[] At(double degrees) => [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];
        var images = Enumerable.Range(0, 12).Select(i => At(10 * i)).ToList();
        var captions = new double[] { 0, 33, 20, 72, 40, 50, 60, 70, 80, 90, 100, 1 }.Select(At).ToList();
        var r = CoCaRetrieval.Recall(images, captions, Enumerable.Range(0, 12).ToList());
        // text→image ranks 0 4 0 8 0 0 0 0 0 0 0 11
        Assert.Equal(9.0 / 12, r.TextToImageAt1, 12);
        Assert.Equal(10.0 / 12, r.TextToImageAt5, 12);
        Assert.Equal(11.0 / 12, r.TextToImageAt10, 12);
        // image→text ranks 0 3 0 8 0 0 0 0 0 0 0 10
        Assert.Equal(9.0 / 12, r.ImageToTextAt1, 12);
        Assert.Equal(10.0 / 12, r.ImageToTextAt5, 12);
        Assert.Equal(11.0 / 12, r.ImageToTextAt10, 12);

        // The flat layout of the featurizers outside ML.NET gives the same numbers.
        Assert.Equal(r, CoCaRetrieval.Recall(images.SelectMany(x => x).ToArray(), captions.SelectMany(x => x).ToArray(), 2, Enumerable.Range(0, 12).ToList()));
    }

    [Fact]
    public void Recall_TiesNeverCountAsHits()
    {
        // A collapsed model: every embedding the same. Each right answer ties with every wrong one, so nothing is found.
        float[][] same = [[1, 1], [1, 1], [1, 1], [1, 1]];
        var r = CoCaRetrieval.Recall(same, same, [0, 1, 2, 3]);
        Assert.Equal(0.0, r.ImageToTextAt1);
        Assert.Equal(0.0, r.TextToImageAt1);
        Assert.Equal(1.0, r.TextToImageAt5); // 3 ahead < 5
    }

    [Fact]
    public void Recall_RefusesNonFiniteEmbeddings_AndImagesWithoutCaptions()
    {
        var nan = Assert.Throws<ArgumentException>(() => CoCaRetrieval.Recall([[1, 0], [0, 1]], [[1, 0], [float.NaN, 1]], [0, 1]));
        Assert.Contains("caption embedding 1 holds NaN", nan.Message);
        Assert.Contains("non-finite", nan.Message);
        var orphan = Assert.Throws<ArgumentException>(() => CoCaRetrieval.Recall([[1, 0], [0, 1], [1, 1]], [[1, 0], [0, 1]], [0, 1]));
        Assert.Contains("Image 2 has no caption", orphan.Message);
        Assert.Throws<ArgumentException>(() => CoCaRetrieval.Recall([[1, 0]], [[1, 0]], [1]));
    }

    private sealed class Row
    {
        [VectorType(2)]
        public float[] E { get; set; } = [];
    }

    [Fact]
    public void WorksOnFeaturizedColumns()
    {
        var ml = new MLContext();
        var images = ml.Data.LoadFromEnumerable(new[] { new Row { E = [1, 0] }, new Row { E = [0, 1] }, new Row { E = [1, 1] } });
        var texts = ml.Data.LoadFromEnumerable(new[] { new Row { E = [0, 3] }, new Row { E = [2, 2.1f] } });
        var textToImage = CoCaRetrieval.TopK(texts, "E", images, "E", k: 1);
        Assert.Equal(new[] { 1, 2 }, textToImage.Select(h => h[0].Index));
        var imageToText = CoCaRetrieval.TopK(images, "E", texts, "E", k: 1);
        Assert.Equal(new[] { 1, 0, 1 }, imageToText.Select(h => h[0].Index));
        var sims = CoCaRetrieval.CosineSimilarities(CoCaRetrieval.ReadEmbeddings(texts, "E"), CoCaRetrieval.ReadEmbeddings(images, "E"));
        Assert.Equal(6, sims.Length);
        Assert.Equal(1f, sims[1], 6);
    }
}

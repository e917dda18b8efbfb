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

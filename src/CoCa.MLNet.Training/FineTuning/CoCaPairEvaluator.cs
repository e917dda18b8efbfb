using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>Computes <see cref="CoCaPairMetrics"/> for a model on a set of pairs, batch by batch (no gradients).</summary>
internal static class CoCaPairEvaluator
{
    public static CoCaPairMetrics Evaluate(CoCaModel model, IReadOnlyList<ImageCaptionPair> pairs, PairBatchLoader loader, int batchSize, Device device, int padId)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        bool wasTraining = model.training;
        model.eval();
        using var objective = new CoCaObjective(padId: padId);
        using var _ = torch.no_grad();
        var images = new List<float[]>();
        var texts = new List<float[]>();
        double contrastive = 0, caption = 0;
        int batches = 0;
        long embedDim = 0;
        try
        {
            for (int start = 0; start < pairs.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = pairs.Skip(start).Take(batchSize).ToList();
                var (pixels, ids) = loader.Load(batch, device);
                var f = model.forward(pixels, ids);
                var loss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
                contrastive += loss.Contrastive.item<float>();
                caption += loss.Caption.item<float>();
                batches++;
                embedDim = f.ImageEmbedding.shape[1];
                images.Add(nn.functional.normalize(f.ImageEmbedding, dim: -1).cpu().data<float>().ToArray());
                texts.Add(nn.functional.normalize(f.TextEmbedding, dim: -1).cpu().data<float>().ToArray());
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        var imageMatrix = images.SelectMany(x => x).ToArray();
        var textMatrix = texts.SelectMany(x => x).ToArray();
        var (i1, i5) = Recall(imageMatrix, textMatrix, pairs.Count, (int)embedDim);
        var (t1, t5) = Recall(textMatrix, imageMatrix, pairs.Count, (int)embedDim);
        return new CoCaPairMetrics(pairs.Count, contrastive / batches, caption / batches, i1, i5, t1, t5);
    }

    /// <summary>Recall@1/@5 of query i finding gallery item i among all gallery items (rank = items scoring strictly higher).</summary>
    internal static (double At1, double At5) Recall(float[] queries, float[] gallery, int n, int dim)
    {
        int hits1 = 0, hits5 = 0;
        Parallel.For(0, n, () => (0, 0), (q, _, local) =>
        {
            var query = queries.AsSpan(q * dim, dim);
            double positive = Dot(query, gallery.AsSpan(q * dim, dim));
            int higher = 0;
            for (int g = 0; g < n && higher < 5; g++)
                if (g != q && Dot(query, gallery.AsSpan(g * dim, dim)) > positive) higher++;
            return (local.Item1 + (higher < 1 ? 1 : 0), local.Item2 + (higher < 5 ? 1 : 0));
        }, local => { Interlocked.Add(ref hits1, local.Item1); Interlocked.Add(ref hits5, local.Item2); });
        return ((double)hits1 / n, (double)hits5 / n);
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}

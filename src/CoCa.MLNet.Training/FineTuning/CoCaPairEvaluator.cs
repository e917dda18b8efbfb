using System.Globalization;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Video;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// Computes <see cref="CoCaPairMetrics"/> for a model on a set of pairs, batch by batch (no gradients). Rows naming the
/// same image are one image: each batch sends its distinct images through the vision tower once, and the retrieval
/// gallery holds each image once (rows are grouped by image, in order of first appearance, so that an image's captions
/// share a batch). A video row's image is the mean of the embeddings of its uniformly sampled frames (the paper's
/// zero-shot video retrieval); its caption goes through the text tower alone. A non-finite loss or embedding is
/// refused, naming the rows, instead of being ranked.
/// </summary>
internal static class CoCaPairEvaluator
{
    public static CoCaPairMetrics Evaluate(CoCaModel model, IReadOnlyList<ImageCaptionPair> pairs, PairBatchLoader loader, int batchSize, Device device, int padId,
        int frames = VideoFrameSampler.DefaultFrameCount, string modelName = "the model")
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (frames < 1) throw new ArgumentOutOfRangeException(nameof(frames), frames, "At least one frame per video.");
        if (pairs.Count == 0) throw new ArgumentException("There are no pairs to evaluate.", nameof(pairs));

        // The gallery: distinct images and videos in order of first appearance; captionImage[j] is row j's.
        var galleryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var gallery = new List<ImageCaptionPair>();
        var captionImage = new int[pairs.Count];
        for (int j = 0; j < pairs.Count; j++)
        {
            if (!galleryIndex.TryGetValue(pairs[j].ImagePath, out int g))
            {
                galleryIndex[pairs[j].ImagePath] = g = gallery.Count;
                gallery.Add(pairs[j]);
            }
            captionImage[j] = g;
        }
        var imageEmbeddings = new float[gallery.Count][];
        var textEmbeddings = new float[pairs.Count][];

        bool wasTraining = model.training;
        model.eval();
        using var objective = new CoCaObjective(padId: padId);
        using var _ = torch.no_grad();
        double contrastive = 0, caption = 0;
        int batches = 0;
        try
        {
            var imageRows = Enumerable.Range(0, pairs.Count).Where(j => !gallery[captionImage[j]].IsVideo).OrderBy(j => captionImage[j]).ToList();
            for (int start = 0; start < imageRows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = imageRows.Skip(start).Take(batchSize).ToList();
                var batch = rows.Select(j => pairs[j]).ToList();
                var distinct = rows.Select(j => captionImage[j]).Distinct().ToList();
                var local = rows.Select(j => (long)distinct.IndexOf(captionImage[j])).ToArray();
                var pixels = loader.LoadPixels(distinct.Select(g => gallery[g]).ToList(), device);
                var ids = loader.LoadIds(batch, device);
                var f = model.ForwardSharedImages(pixels, ids, torch.tensor(local, device: device));
                var loss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
                double c = loss.Contrastive.item<float>(), p = loss.Caption.item<float>();
                RequireFinite(c, "contrastive loss", batch, modelName);
                RequireFinite(p, "caption loss", batch, modelName);
                contrastive += c;
                caption += p;
                batches++;
                var images = Rows(f.ImageEmbedding);
                var texts = Rows(f.TextEmbedding);
                for (int r = 0; r < rows.Count; r++)
                {
                    imageEmbeddings[captionImage[rows[r]]] ??= RequireFinite(images[r], "image embedding", pairs[rows[r]], modelName);
                    textEmbeddings[rows[r]] = RequireFinite(texts[r], "caption embedding", pairs[rows[r]], modelName);
                }
            }

            for (int g = 0; g < gallery.Count; g++)
            {
                if (!gallery[g].IsVideo) continue;
                using var scope = NewDisposeScope();
                var pixels = loader.LoadFrames(gallery[g], frames, device);
                var frameEmbeddings = new List<Tensor>();
                for (int f = 0; f < frames; f += batchSize)
                    frameEmbeddings.Add(model.Visual.Encode(pixels.narrow(0, f, Math.Min(batchSize, frames - f))).ImageEmbedding);
                // The mean of the frames' (unnormalized) embeddings, as the video featurizer computes it.
                imageEmbeddings[g] = RequireFinite(Rows(torch.cat(frameEmbeddings, 0).mean([0], keepdim: true))[0], "video embedding", gallery[g], modelName);
            }
            var videoRows = Enumerable.Range(0, pairs.Count).Where(j => gallery[captionImage[j]].IsVideo).ToList();
            for (int start = 0; start < videoRows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = videoRows.Skip(start).Take(batchSize).ToList();
                var texts = Rows(model.Text.forward(loader.LoadIds(rows.Select(j => pairs[j]).ToList(), device)).TextEmbedding);
                for (int r = 0; r < rows.Count; r++)
                    textEmbeddings[rows[r]] = RequireFinite(texts[r], "caption embedding", pairs[rows[r]], modelName);
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        var recall = CoCaRetrieval.Recall(imageEmbeddings, textEmbeddings, captionImage);
        return new CoCaPairMetrics(pairs.Count, batches > 0 ? contrastive / batches : null, batches > 0 ? caption / batches : null, recall)
        {
            Videos = gallery.Count(g => g.IsVideo),
        };
    }

    private static float[][] Rows(Tensor embeddings)
    {
        using var cpu = embeddings.detach().to(ScalarType.Float32).cpu().contiguous();
        var flat = cpu.data<float>().ToArray();
        int dim = (int)cpu.shape[1];
        var rows = new float[cpu.shape[0]][];
        for (int r = 0; r < rows.Length; r++) rows[r] = flat.AsSpan(r * dim, dim).ToArray();
        return rows;
    }

    private static void RequireFinite(double value, string what, IReadOnlyList<ImageCaptionPair> batch, string modelName)
    {
        if (!double.IsFinite(value))
            throw NonFinite($"the {what} is {value.ToString(CultureInfo.InvariantCulture)} on the pairs of lines {batch.Min(p => p.Line)}–{batch.Max(p => p.Line)}{(batch.Select(p => p.DataFile).Distinct().ToList() is [{ } file] ? $" of '{file}'" : "")}", modelName);
    }

    private static float[] RequireFinite(float[] embedding, string what, ImageCaptionPair pair, string modelName)
    {
        int bad = Array.FindIndex(embedding, v => !float.IsFinite(v));
        if (bad >= 0)
            throw NonFinite($"the {what} of '{pair.ImagePath}' ({pair.Origin}) holds {embedding[bad].ToString(CultureInfo.InvariantCulture)}", modelName);
        return embedding;
    }

    // Refused, not ranked: NaN compares false with everything, so it would rank as a hit (recall 100 %).
    private static InvalidDataException NonFinite(string what, string modelName) => new(
        $"Cannot evaluate {modelName}: {what}. Its weights hold NaN or infinite values, or training diverged " +
        "(e.g. too high a learning rate); evaluate a checkpoint with finite weights (e.g. an earlier checkpoints/epoch_N).");
}

using CoCa.MLNet.Scoring;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// How well a CoCa fits a set of image–caption pairs: the unweighted contrastive and caption losses over the image
/// pairs (the whole set as one batch when it fits the batch size, else the mean over batches; null when every pair is
/// a video, since CoCa's losses are defined on images) and image↔text retrieval recall@1/@5/@10 over the whole set as
/// the paper measures it (<see cref="RetrievalRecall"/>: rows naming the same image are one image with several
/// captions; a video is the mean of its sampled frames' embeddings; ties never count as hits).
/// </summary>
public sealed record CoCaPairMetrics(int Pairs, double? ContrastiveLoss, double? CaptionLoss, RetrievalRecall Retrieval)
{
    /// <summary>Distinct images and videos: the retrieval gallery.</summary>
    public int Images => Retrieval.Images;

    /// <summary>How many of the <see cref="Images"/> are videos.</summary>
    public int Videos { get; init; }

    public double ImageToTextRecallAt1 => Retrieval.ImageToTextAt1;
    public double ImageToTextRecallAt5 => Retrieval.ImageToTextAt5;
    public double ImageToTextRecallAt10 => Retrieval.ImageToTextAt10;
    public double TextToImageRecallAt1 => Retrieval.TextToImageAt1;
    public double TextToImageRecallAt5 => Retrieval.TextToImageAt5;
    public double TextToImageRecallAt10 => Retrieval.TextToImageAt10;

    public override string ToString() =>
        $"pairs {Pairs} ({Images} images{(Videos > 0 ? $", {Videos} of them videos" : "")}), " +
        (ContrastiveLoss is { } c && CaptionLoss is { } p
            ? $"contrastive loss {c:F4}, caption loss {p:F4}{(Videos > 0 ? " (image pairs)" : "")}, "
            : "no losses (videos only), ") +
        Retrieval;
}

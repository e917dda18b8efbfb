namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// How well a CoCa fits a set of image–caption pairs: the unweighted contrastive and caption losses (the whole set as one
/// batch when it fits the batch size, else the mean over batches) and image→text / text→image retrieval recall@1/@5
/// over the whole set (pair i's caption is the one right answer for image i, and vice versa).
/// </summary>
public sealed record CoCaPairMetrics(
    int Pairs, double ContrastiveLoss, double CaptionLoss,
    double ImageToTextRecallAt1, double ImageToTextRecallAt5, double TextToImageRecallAt1, double TextToImageRecallAt5)
{
    public override string ToString() =>
        $"pairs {Pairs}, contrastive loss {ContrastiveLoss:F4}, caption loss {CaptionLoss:F4}, " +
        $"image→text R@1 {ImageToTextRecallAt1:P1} R@5 {ImageToTextRecallAt5:P1}, text→image R@1 {TextToImageRecallAt1:P1} R@5 {TextToImageRecallAt5:P1}";
}

namespace CoCa.MLNet.Scoring;

/// <summary>
/// Image↔text retrieval recall as the CoCa paper reports it (Flickr30K / MSCOCO 5-caption protocol; MSR-VTT for
/// videos, an image being then a video's mean frame embedding): R@1, R@5 and R@10 in both directions over a gallery
/// of <see cref="Images"/> distinct images and <see cref="Captions"/> captions, each caption belonging to one image
/// and each image having one or more captions. Image→text: the share of images with any of their own captions in
/// the top k captions; text→image: the share of captions whose own image is in the top k images. A candidate scoring
/// exactly as much as the right answer ranks ahead of it, so ties never count as hits.
/// </summary>
public sealed record RetrievalRecall(
    int Images, int Captions,
    double ImageToTextAt1, double ImageToTextAt5, double ImageToTextAt10,
    double TextToImageAt1, double TextToImageAt5, double TextToImageAt10)
{
    public override string ToString() =>
        $"image→text R@1 {ImageToTextAt1:P1} R@5 {ImageToTextAt5:P1} R@10 {ImageToTextAt10:P1}, " +
        $"text→image R@1 {TextToImageAt1:P1} R@5 {TextToImageAt5:P1} R@10 {TextToImageAt10:P1}";
}

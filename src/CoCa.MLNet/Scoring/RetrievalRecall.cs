using System.Globalization;

namespace CoCa.MLNet.Scoring;

/// <summary>
/// Image↔text retrieval recall as the CoCa paper reports it (Flickr30K / MSCOCO 5-caption protocol; MSR-VTT for
/// videos, an image being then a video's mean frame embedding): R@1, R@5 and R@10 in both directions over a gallery
/// of <see cref="Images"/> distinct images and <see cref="Captions"/> captions, each caption belonging to one image
/// and each image having one or more captions. Image→text: the share of images with any of their own captions in
/// the top k captions; text→image: the share of captions whose own image is in the top k images. A candidate scoring
/// exactly as much as the right answer ranks ahead of it, so ties never count as hits.
/// </summary>
/// <remarks>
/// On a small set R@k can be 100 % whatever the model: with 3 images, every caption's own image is among the top 5.
/// <see cref="ImageToTextRanks"/> and <see cref="TextToImageRanks"/> say how many places the right answer can take;
/// <see cref="IsMeasured"/> is false for a k at or past that, and <see cref="ToString"/> shows such a recall as n/a.
/// </remarks>
public sealed record RetrievalRecall(
    int Images, int Captions,
    double ImageToTextAt1, double ImageToTextAt5, double ImageToTextAt10,
    double TextToImageAt1, double TextToImageAt5, double TextToImageAt10)
{
    /// <summary>
    /// Image→text: the places an image's best own caption can rank in, 1 + the most wrong captions any image has
    /// (captions − the fewest captions an image has). Null: not known (a result made without it).
    /// </summary>
    public int? ImageToTextRanks { get; init; }

    /// <summary>Text→image: the places a caption's own image can rank in, 1 + the other images (so: <see cref="Images"/>). Null: not known.</summary>
    public int? TextToImageRanks => ImageToTextRanks is null ? null : Images;

    /// <summary>
    /// Whether R@<paramref name="k"/> in the direction given says anything about the model: false when the right answer
    /// is always in the top k (k at least the places it can rank in), so the recall is 100 % for any model.
    /// </summary>
    public bool IsMeasured(int k, bool imageToText) => (imageToText ? ImageToTextRanks : TextToImageRanks) is not { } ranks || k < ranks;

    /// <summary>R@<paramref name="k"/> as a percentage with <paramref name="decimals"/> decimals, or "n/a (N candidates)" when it is not measured.</summary>
    public string Format(double recall, int k, bool imageToText, int decimals = 1) =>
        IsMeasured(k, imageToText)
            ? recall.ToString("P" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
            : $"n/a ({(imageToText ? ImageToTextRanks : TextToImageRanks)} candidates)";

    public override string ToString() =>
        $"image→text R@1 {Format(ImageToTextAt1, 1, true)} R@5 {Format(ImageToTextAt5, 5, true)} R@10 {Format(ImageToTextAt10, 10, true)}, " +
        $"text→image R@1 {Format(TextToImageAt1, 1, false)} R@5 {Format(TextToImageAt5, 5, false)} R@10 {Format(TextToImageAt10, 10, false)}";
}

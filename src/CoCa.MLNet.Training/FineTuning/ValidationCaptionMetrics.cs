using CoCa.MLNet.Evaluation;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The caption metrics of one epoch (<see cref="CoCaFineTuneOptions.CaptionMetrics"/>): the model's greedy caption of
/// every validation image scored against that image's validation captions by <see cref="CaptionMetrics.Compute(IReadOnlyDictionary{string, IReadOnlyList{string}}, IReadOnlyDictionary{string, string})"/>
/// in one call over the whole set (CIDEr's weights come from the set).
/// </summary>
/// <param name="Scores">pycocoevalcap's BLEU-1..4, ROUGE-L and CIDEr of the captions.</param>
/// <param name="Captions">The greedy caption of each validation image, by its full path (the key of <see cref="CaptionScores.PerImage"/>).</param>
/// <param name="DecodingTime">What captioning the images took (decoding dominates; scoring is a small part).</param>
public sealed record ValidationCaptionMetrics(CaptionScores Scores, IReadOnlyDictionary<string, string> Captions, TimeSpan DecodingTime)
{
    /// <summary>pycocoevalcap's CIDEr (CIDEr-D).</summary>
    public double Cider => Scores.Cider;

    /// <summary>pycocoevalcap's Bleu_4.</summary>
    public double Bleu4 => Scores.Bleu4;

    public override string ToString() =>
        $"CIDEr {(Scores.CiderIsMeasured ? $"{Cider:F3}" : "n/a (one image)")} " +
        $"BLEU-4 {Bleu4:F3} (greedy captions of {Captions.Count} images, {DecodingTime.TotalSeconds:F1} s)";
}

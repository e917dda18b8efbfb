namespace CoCa.MLNet.Evaluation;

/// <summary>
/// Caption metrics of a set of images, pycocoevalcap's: BLEU-1..4 at corpus level, ROUGE-L and CIDEr-D (means over the
/// images), with the numbers of images and reference captions and each image's own scores. METEOR and SPICE are not
/// computed (they need Java and Stanford's models).
/// </summary>
public sealed class CaptionScores
{
    internal CaptionScores(double[] bleu, double rougeL, double cider, int images, int references, IReadOnlyDictionary<string, CaptionImageScores> perImage)
    {
        Bleu1 = bleu[0];
        Bleu2 = bleu[1];
        Bleu3 = bleu[2];
        Bleu4 = bleu[3];
        RougeL = rougeL;
        Cider = cider;
        Images = images;
        References = references;
        PerImage = perImage;
    }

    /// <summary>pycocoevalcap's "Bleu_1".</summary>
    public double Bleu1 { get; }

    /// <summary>pycocoevalcap's "Bleu_2".</summary>
    public double Bleu2 { get; }

    /// <summary>pycocoevalcap's "Bleu_3".</summary>
    public double Bleu3 { get; }

    /// <summary>pycocoevalcap's "Bleu_4", the BLEU captioning papers report.</summary>
    public double Bleu4 { get; }

    /// <summary>pycocoevalcap's "ROUGE_L".</summary>
    public double RougeL { get; }

    /// <summary>pycocoevalcap's "CIDEr" (CIDEr-D, ×10 as pycocoevalcap gives it: papers print it ×100, e.g. 1.2 as 120).</summary>
    public double Cider { get; }

    /// <summary>
    /// Whether <see cref="Cider"/> says anything about the captions: false for a single image, where CIDEr-D's idf weights
    /// are log(1) − log(1) = 0, so its CIDEr is 0 for any caption (pycocoevalcap's too). Show it as n/a then.
    /// </summary>
    public bool CiderIsMeasured => Images > 1;

    /// <summary>Images scored (each with one candidate caption).</summary>
    public int Images { get; }

    /// <summary>Reference captions, over all images.</summary>
    public int References { get; }

    /// <summary>Each image's scores, by its id (pycocoevalcap's imgToEval).</summary>
    public IReadOnlyDictionary<string, CaptionImageScores> PerImage { get; }

    /// <summary>The scores by pycocoevalcap's names: Bleu_1, Bleu_2, Bleu_3, Bleu_4, ROUGE_L, CIDEr.</summary>
    public IReadOnlyDictionary<string, double> ByName() => new Dictionary<string, double>
    {
        ["Bleu_1"] = Bleu1,
        ["Bleu_2"] = Bleu2,
        ["Bleu_3"] = Bleu3,
        ["Bleu_4"] = Bleu4,
        ["ROUGE_L"] = RougeL,
        ["CIDEr"] = Cider,
    };
}

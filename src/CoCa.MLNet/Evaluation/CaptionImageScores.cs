namespace CoCa.MLNet.Evaluation;

/// <summary>
/// One image's caption scores as pycocoevalcap gives them per image (imgToEval): BLEU-1..4 of that image alone (with its
/// own brevity penalty), ROUGE-L and CIDEr-D (whose document frequencies still come from the whole evaluated set).
/// </summary>
public sealed record CaptionImageScores(double Bleu1, double Bleu2, double Bleu3, double Bleu4, double RougeL, double Cider);

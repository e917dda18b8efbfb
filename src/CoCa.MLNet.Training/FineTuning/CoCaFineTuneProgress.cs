namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// A report of <see cref="CoCaFineTuner"/>: after every <see cref="CoCaFineTuneOptions.ProgressEverySteps"/> optimizer
/// steps (<see cref="EndOfEpoch"/> false; losses averaged over those steps) and at each epoch's end (true; losses over
/// the epoch, <see cref="Validation"/> when a validation set was given, <see cref="CaptionMetrics"/> when asked for,
/// <see cref="Checkpoint"/> the folder written).
/// </summary>
public sealed record CoCaFineTuneProgress(
    int Epoch, int Epochs, long Step, long TotalSteps, bool EndOfEpoch,
    double ContrastiveLoss, double CaptionLoss, double TotalLoss, double LearningRate, double ExamplesPerSecond,
    CoCaPairMetrics? Validation = null, string? Checkpoint = null)
{
    /// <summary>
    /// At an epoch's end with <see cref="CoCaFineTuneOptions.CaptionMetrics"/>: the CIDEr and BLEU-4 (and the other
    /// pycocoevalcap scores) of the model's greedy captions of the validation images, and those captions.
    /// </summary>
    public ValidationCaptionMetrics? CaptionMetrics { get; init; }

    public override string ToString()
    {
        var head = EndOfEpoch ? $"epoch {Epoch}/{Epochs} done" : $"epoch {Epoch}/{Epochs} step {Step}/{TotalSteps}";
        var line = $"{head}: loss {TotalLoss:F4} (contrastive {ContrastiveLoss:F4}, caption {CaptionLoss:F4}), lr {LearningRate:E2}, {ExamplesPerSecond:F1} pairs/s";
        if (Validation is not null) line += $"; validation: {Validation}";
        if (CaptionMetrics is not null) line += $"{(Validation is null ? "; validation:" : ",")} {CaptionMetrics}";
        if (Checkpoint is not null) line += $"; saved {Checkpoint}";
        return line;
    }
}

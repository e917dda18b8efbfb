namespace CoCa.MLNet.Training.Pooling;

/// <summary>Metrics after one training epoch of <see cref="AttentionalPoolerTrainer"/>.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="NumberOfEpochs">The configured maximum.</param>
/// <param name="TrainingLoss">Mean training loss (with label smoothing and dropout, as optimised).</param>
/// <param name="TrainingAccuracy">Accuracy on the training batches as they were trained.</param>
/// <param name="ValidationLoss">Mean cross-entropy on the held-out examples; null without validation.</param>
/// <param name="ValidationAccuracy">Accuracy on the held-out examples; null without validation.</param>
/// <param name="SamplesPerSecond">Training examples per second in this epoch.</param>
/// <param name="LearningRate">Learning rate at the epoch's last step.</param>
/// <param name="IsBest">Whether this epoch has the lowest validation loss so far (its weights are kept).</param>
public sealed record AttentionalPoolerProgress(
    int Epoch,
    int NumberOfEpochs,
    double TrainingLoss,
    double TrainingAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double SamplesPerSecond,
    double LearningRate,
    bool IsBest)
{
    public override string ToString() =>
        $"epoch {Epoch}/{NumberOfEpochs}: loss {TrainingLoss:F4}, accuracy {TrainingAccuracy:P1}" +
        (ValidationLoss is { } vl ? $", validation loss {vl:F4}, validation accuracy {ValidationAccuracy:P1}{(IsBest ? " (best)" : "")}" : "") +
        $", {SamplesPerSecond:F0} samples/s, lr {LearningRate:G3}";
}

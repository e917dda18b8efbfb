namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// How long a training run is, planned in optimizer steps from the size of the training split, so that the defaults
/// train a small data set as long as a large one needs (see <see cref="AttentionalPoolerOptions"/>):
/// <list type="bullet">
/// <item>batch size: a tenth of the training examples rounded down to a power of two, between 8 and 64 (a set of 150
/// gets 8, about 19 steps per epoch; from 640 examples on, 64);</item>
/// <item>epochs (the most the run may take; the cosine schedule spans them): enough for
/// <see cref="MinimumSteps"/> optimizer steps, at least 30, at most 1000;</item>
/// <item>warmup: a tenth of the planned steps, at most 500;</item>
/// <item>early stopping: after as many epochs without a better validation loss as cover a fifth of the plan (at least
/// 10); the weights of the best validation epoch are kept.</item>
/// </list>
/// Each value given in the options replaces the planned one.
/// </summary>
internal sealed record PoolerTrainingPlan(int BatchSize, int BatchesPerEpoch, int Epochs, int TotalSteps, int WarmupSteps, int EarlyStoppingPatience)
{
    /// <summary>Fewest optimizer steps that the default plan gives a data set of any size.</summary>
    public const int MinimumSteps = 2000;

    public const int MinimumEpochs = 30;
    public const int MaximumEpochs = 1000;
    public const int SmallestBatch = 8;
    public const int LargestBatch = 64;
    public const int MaximumWarmupSteps = 500;
    public const int MinimumPatience = 10;

    /// <param name="trainingExamples">Rows of the training split (after the validation split).</param>
    /// <param name="batchSize">The user's batch size, or null to plan one.</param>
    /// <param name="epochs">The user's maximum number of epochs, or null to plan it.</param>
    /// <param name="warmupSteps">The user's warmup, or null to plan it.</param>
    /// <param name="patience">The user's early-stopping patience in epochs (0: off), or null to plan it.</param>
    /// <param name="lengths">How long the default plan trains: <see cref="PlanLengths.FrozenFeatures"/> (null) or <see cref="PlanLengths.FineTuning"/>.</param>
    public static PoolerTrainingPlan Create(int trainingExamples, int? batchSize = null, int? epochs = null, int? warmupSteps = null, int? patience = null, PlanLengths? lengths = null)
    {
        if (trainingExamples < 1) throw new ArgumentOutOfRangeException(nameof(trainingExamples), trainingExamples, "Training needs at least one example.");
        lengths ??= PlanLengths.FrozenFeatures;
        int batch = Math.Min(batchSize ?? Math.Clamp(FloorPowerOfTwo(trainingExamples / 10), SmallestBatch, LargestBatch), trainingExamples);
        int perEpoch = (trainingExamples + batch - 1) / batch;
        int planned = epochs ?? Math.Clamp((lengths.MinimumSteps + perEpoch - 1) / perEpoch, lengths.MinimumEpochs, lengths.MaximumEpochs);
        int total = checked(perEpoch * planned);
        int warmup = Math.Min(warmupSteps ?? Math.Min(total / 10, MaximumWarmupSteps), total);
        int wait = patience ?? Math.Max(MinimumPatience, (planned + 4) / 5);
        return new PoolerTrainingPlan(batch, perEpoch, planned, total, warmup, wait);
    }

    private static int FloorPowerOfTwo(int n) => n < 1 ? 1 : 1 << (31 - int.LeadingZeroCount(n));

    public override string ToString() =>
        $"batch {BatchSize}, {BatchesPerEpoch} steps per epoch, at most {Epochs} epochs ({TotalSteps} steps), warmup {WarmupSteps} steps, " +
        (EarlyStoppingPatience > 0 ? $"early stopping after {EarlyStoppingPatience} epochs without a better validation loss" : "no early stopping");
}

/// <summary>
/// How long a default plan trains. Over frozen features a step costs microseconds per example, so the plan aims for
/// 2,000 steps; fine-tuning runs the encoder forward and backward (about a second per 224² image for ViT-B/32 on
/// one CPU core), so it aims for 500 steps in 10 to 100 epochs, as fine-tuning recipes do.
/// </summary>
internal sealed record PlanLengths(int MinimumSteps, int MinimumEpochs, int MaximumEpochs)
{
    public static PlanLengths FrozenFeatures { get; } = new(PoolerTrainingPlan.MinimumSteps, PoolerTrainingPlan.MinimumEpochs, PoolerTrainingPlan.MaximumEpochs);

    public static PlanLengths FineTuning { get; } = new(500, 10, 100);
}

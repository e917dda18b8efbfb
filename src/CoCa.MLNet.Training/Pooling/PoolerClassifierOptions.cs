using CoCa.MLNet.Pooling;
using CoCa.MLNet.Transforms;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// What every classifier with a new attentional pooler and linear head trained under softmax cross-entropy is given —
/// the frozen-feature trainer's (<see cref="AttentionalPoolerOptions"/>) and the fine-tuned classifier's
/// (<see cref="Classification.FineTunedCoCaOptions"/>) options, as ML.NET's trainers share their input base classes: the
/// columns, the new pooler, the optimizer and its planned length, validation and early stopping, precision, device.
/// </summary>
public abstract class PoolerClassifierOptions
{
    private protected PoolerClassifierOptions()
    {
    }

    // ---- columns -------------------------------------------------------------------------------------------------

    /// <summary>Key-typed label column (e.g. from <c>MapValueToKey</c>).</summary>
    public string LabelColumnName { get; set; } = CoCaColumnNames.Label;

    /// <summary>Output: class probabilities, Vector&lt;Single, K&gt;.</summary>
    public string ScoreColumnName { get; set; } = CoCaColumnNames.Score;

    /// <summary>Output: the most probable class, a key of the label's type.</summary>
    public string PredictedLabelColumnName { get; set; } = CoCaColumnNames.PredictedLabel;

    // ---- the new pooler ------------------------------------------------------------------------------------------

    /// <summary>Learnable queries of the new pooler; with several, the classifier sees their mean.</summary>
    public int NumberOfQueries { get; set; } = 1;

    /// <summary>Attention heads of the new pooler; null: D/64 (at least 1, lowered until it divides D).</summary>
    public int? NumberOfHeads { get; set; }

    /// <summary>Dropout before the classifier.</summary>
    public double Dropout { get; set; } = 0.0;

    // ---- optimisation --------------------------------------------------------------------------------------------

    /// <summary>Peak learning rate of AdamW (for the new pooler and classifier).</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>
    /// AdamW's decoupled weight decay, by open_clip's groups: matrices, embeddings, queries and frame embeddings decay;
    /// biases, LayerNorm gains and other 1-dimensional parameters do not.
    /// </summary>
    public double WeightDecay { get; set; } = 1e-4;

    // Training is planned in optimizer steps, so that the defaults train a data set of any size long enough: a small
    // set gets smaller batches and more epochs, and early stopping on the validation split decides the end (the
    // weights of the best validation epoch are kept). benchmarks/README.md ("Defaults") has the recipe and its measure.

    /// <summary>
    /// Optimizer steps spent warming the learning rate up linearly from 0; then cosine decay to 0 over the planned
    /// epochs. Null: a tenth of the planned steps, at most 500.
    /// </summary>
    public int? WarmupSteps { get; set; }

    /// <summary>
    /// Examples per optimizer step. Null: a tenth of the training examples rounded down to a power of two, between 8
    /// and 64 (so that a small data set still gets about ten steps per epoch).
    /// </summary>
    public int? BatchSize { get; set; }

    /// <summary>
    /// Maximum passes over the training data; the learning-rate schedule spans them and early stopping usually ends
    /// sooner. Null: planned from the training split — as many as give 2,000 optimizer steps (30 to 1,000 epochs) for
    /// the frozen pooler, 500 (10 to 100 epochs) for the fine-tuned classifier.
    /// </summary>
    public int? NumberOfEpochs { get; set; }

    /// <summary>Label smoothing of the cross-entropy loss (0 = none).</summary>
    public double LabelSmoothing { get; set; } = 0.0;

    /// <summary>
    /// Seed of the new weights, dropout, shuffling, the validation split (and augmentation, when on). Same seed and
    /// data → the same weights, bit for bit, on CPU. Null: drawn from the MLContext (deterministic when it has a seed).
    /// </summary>
    public int? Seed { get; set; }

    // ---- validation ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Fraction of the examples held out (at random, but never a class's last example: every class trains) to measure
    /// validation loss and accuracy after every epoch; the best epoch's weights are kept. 0 trains on everything and
    /// turns early stopping off.
    /// </summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>
    /// Stop after this many epochs without a validation-loss improvement larger than
    /// <see cref="EarlyStoppingMinDelta"/> (epochs still warming up do not count). 0 turns early stopping off. With
    /// validation on, the weights of the best epoch are kept either way. Null: the epochs that cover a fifth of the
    /// planned ones, at least 10.
    /// </summary>
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>How much lower than the best so far a validation loss must be to count as an improvement.</summary>
    public double EarlyStoppingMinDelta { get; set; } = 1e-4;

    // ---- progress, precision, device -----------------------------------------------------------------------------

    /// <summary>
    /// Receives the metrics of every epoch (they also go to the MLContext log), reported synchronously on the training
    /// thread as each epoch ends, in order. <see cref="InlineProgress{T}"/> acts on them right there:
    /// <c>Progress = new InlineProgress&lt;AttentionalPoolerProgress&gt;(p =&gt; Console.WriteLine(p))</c>.
    /// </summary>
    public IProgress<AttentionalPoolerProgress>? Progress { get; set; }

    /// <summary>
    /// Stops Fit with an <see cref="OperationCanceledException"/>: before the features are read, at the next row while they
    /// are read, or at the next optimizer step. ML.NET 5 keeps <c>MLContext.CancelExecution</c> internal, so this is how an
    /// application cancels a long Fit (e.g. when it shuts down); nothing is returned or saved.
    /// </summary>
    public CancellationToken Cancellation { get; set; }

    /// <summary>
    /// <see cref="TrainingPrecision.BFloat16"/>: the trained modules' matrix products and activations in bfloat16 on
    /// float32 weights (autocast's mixed precision; softmax, LayerNorm and the loss stay float32; the trained weights and
    /// the ONNX models are float32). Validation, and cached features or frozen-block outputs, are float32. On a device
    /// without bfloat16 support: a warning in the MLContext log and float32.
    /// </summary>
    public TrainingPrecision Precision { get; set; } = TrainingPrecision.Float32;

    /// <summary>
    /// "cpu", "cuda" or "cuda:N" for training (<see cref="CoCa.MLNet.Runtime.ComputeDevice"/>: the same names as ONNX
    /// Runtime's <see cref="CoCa.MLNet.Runtime.OnnxExecutionOptions.Device"/> and the CLI's <c>--device</c>). CUDA needs a
    /// CUDA build of libtorch: reference TorchSharp-cuda-linux (or -windows) instead of libtorch-cpu in the application.
    /// The CoCa.MLNet.Training package ships the CPU build, where a CUDA device fails with a clear error. The fitted
    /// model scores with ONNX Runtime.
    /// </summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Most bytes of cached float16 tokens held in memory; more go to a file read batch by batch. Null: a quarter of
    /// the memory available to the process.
    /// </summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>
    /// Most bytes the trainer's feature cache folder (its options' <c>FeatureCacheDirectory</c>) may hold: after a Fit
    /// writes or reuses its cache file, the least recently used other cache files there are removed until the folder
    /// fits (the file in use stays). Null: no limit. The folder's size is logged either way.
    /// </summary>
    public long? FeatureCacheLimitBytes { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option (as <c>Type.Option</c>) and what is expected.</summary>
    private protected void ValidateShared()
    {
        string type = GetType().Name;
        ArgumentOutOfRangeException Bad(string name, object? value, string why) => new(name, value, $"{type}.{name}: {why}");
        foreach (var (name, value) in new[] { (nameof(LabelColumnName), LabelColumnName), (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{type}.{name} must name a column.", type);
        SchemaShapes.RequireDistinctOutputs(type, nameof(ScoreColumnName), ScoreColumnName, nameof(PredictedLabelColumnName), PredictedLabelColumnName);
        if (NumberOfQueries < 1) throw Bad(nameof(NumberOfQueries), NumberOfQueries, "must be at least 1.");
        if (NumberOfHeads is < 1) throw Bad(nameof(NumberOfHeads), NumberOfHeads, "must be at least 1.");
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout)) throw Bad(nameof(Dropout), Dropout, "must be in [0, 1).");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw Bad(nameof(LearningRate), LearningRate, "must be a positive number.");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw Bad(nameof(WeightDecay), WeightDecay, "must be ≥ 0.");
        if (WarmupSteps is < 0) throw Bad(nameof(WarmupSteps), WarmupSteps, "must be ≥ 0.");
        if (BatchSize is < 1) throw Bad(nameof(BatchSize), BatchSize, "must be at least 1.");
        if (NumberOfEpochs is < 1) throw Bad(nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1.");
        if (LabelSmoothing is < 0 or >= 1 || double.IsNaN(LabelSmoothing)) throw Bad(nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1).");
        if (ValidationFraction is < 0 or >= 1 || double.IsNaN(ValidationFraction)) throw Bad(nameof(ValidationFraction), ValidationFraction, "must be in [0, 1).");
        if (EarlyStoppingPatience is < 0) throw Bad(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be ≥ 0.");
        if (!(EarlyStoppingMinDelta >= 0) || !double.IsFinite(EarlyStoppingMinDelta)) throw Bad(nameof(EarlyStoppingMinDelta), EarlyStoppingMinDelta, "must be ≥ 0.");
        if (MemoryBudgetBytes is < 0) throw Bad(nameof(MemoryBudgetBytes), MemoryBudgetBytes, "must be ≥ 0.");
        if (FeatureCacheLimitBytes is < 0) throw Bad(nameof(FeatureCacheLimitBytes), FeatureCacheLimitBytes, "must be ≥ 0.");
        if (!Enum.IsDefined(Precision)) throw Bad(nameof(Precision), Precision, "must be Float32 or BFloat16.");
    }

    /// <summary>What the fitted model stores about its pooler, columns and labels (the scorer's and the saved model's description).</summary>
    internal AttentionalPoolerModelInfo ModelInfo(AttentionalPoolerConfig config, string featureColumn, LabelColumnInfo label, int[] examplesPerClass, int scoringBatchSize) => new()
    {
        Config = config,
        FeatureColumnName = featureColumn,
        LabelColumnName = LabelColumnName,
        ScoreColumnName = ScoreColumnName,
        PredictedLabelColumnName = PredictedLabelColumnName,
        LabelValueType = label.Values?.ItemTypeName,
        LabelValues = label.Values?.Values.ToArray(),
        TrainingExamplesPerClass = examplesPerClass,
        BatchSize = scoringBatchSize,
    };

    /// <summary>Each epoch's metrics to the MLContext log (after <paramref name="prefix"/>) and to <see cref="Progress"/>.</summary>
    internal Action<AttentionalPoolerProgress> ReportTo(IChannel channel, string prefix) => p =>
    {
        CatalogEnvironment.Info(channel, prefix + p);
        Progress?.Report(p);
    };

    /// <summary>
    /// Throws <see cref="OperationCanceledException"/> once <see cref="Cancellation"/> is canceled, or
    /// <c>MLContext.CancelExecution</c> was called (the environment's IsCanceled, not public on the interface).
    /// </summary>
    internal Action CancellationCheck(IHost host, string what)
    {
        var property = host.GetType().GetProperty("IsCanceled");
        var token = Cancellation;
        return () =>
        {
            if (token.IsCancellationRequested)
                throw new OperationCanceledException($"{what} was canceled ({GetType().Name}.Cancellation).", token);
            if (property?.GetValue(host) is true) throw new OperationCanceledException($"{what} was canceled (MLContext.CancelExecution).");
        };
    }

    /// <summary>The attention heads for tokens of <paramref name="shape"/>: <see cref="NumberOfHeads"/>, or the default for their width.</summary>
    internal int HeadsFor(TokenShape shape) => NumberOfHeads ?? AttentionalPoolerConfig.DefaultHeads(shape.Dim);

    /// <summary>Checks that the heads divide the width of tokens of <paramref name="shape"/> (known once the data is seen).</summary>
    private protected void ValidateHeads(TokenShape shape, string parameterName)
    {
        int heads = HeadsFor(shape);
        if (shape.Dim % heads != 0)
            throw new ArgumentOutOfRangeException(parameterName, heads, $"{GetType().Name}.NumberOfHeads ({heads}) must divide the token width D = {shape.Dim}.");
    }
}

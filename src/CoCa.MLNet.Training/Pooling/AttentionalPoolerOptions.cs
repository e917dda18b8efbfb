using CoCa.MLNet.Pooling;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Options of <see cref="AttentionalPoolerTrainer"/>: the CoCa frozen-feature protocol (a new attentional pooler and a
/// linear classifier trained with softmax cross-entropy over the tokens of a frozen encoder).
/// </summary>
public sealed class AttentionalPoolerOptions
{
    // ---- columns -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Float vector column of tokens with dimensions [T, D] (images) or [F, T, D] (video, F frames). The default is the
    /// featurizers' tokens column (<see cref="CoCaColumnNames.Tokens"/>), so a featurizer appended with this trainer needs no column names.
    /// </summary>
    public string FeatureColumnName { get; set; } = CoCaColumnNames.Tokens;

    /// <summary>Key-typed label column (e.g. from <c>MapValueToKey</c>).</summary>
    public string LabelColumnName { get; set; } = CoCaColumnNames.Label;

    /// <summary>Output: class probabilities, Vector&lt;Single, K&gt;.</summary>
    public string ScoreColumnName { get; set; } = CoCaColumnNames.Score;

    /// <summary>Output: the most probable class, a key of the label's type.</summary>
    public string PredictedLabelColumnName { get; set; } = CoCaColumnNames.PredictedLabel;

    // ---- model ---------------------------------------------------------------------------------------------------

    /// <summary>Learnable queries; with several, the classifier sees their mean.</summary>
    public int NumberOfQueries { get; set; } = 1;

    /// <summary>Attention heads; null: D/64 (at least 1, lowered until it divides D).</summary>
    public int? NumberOfHeads { get; set; }

    /// <summary>
    /// Learned per-frame embeddings added to the tokens of each frame, so the pooler can tell frames apart (classes
    /// that depend on frame order). Null: on when the features have more than one frame.
    /// </summary>
    public bool? FrameEmbeddings { get; set; }

    /// <summary>Dropout before the classifier.</summary>
    public double Dropout { get; set; } = 0.0;

    // ---- optimisation --------------------------------------------------------------------------------------------

    /// <summary>Peak learning rate of AdamW.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>
    /// AdamW's decoupled weight decay, applied to parameters of two or more dimensions (projection and classifier
    /// matrices, queries, frame embeddings); biases and LayerNorm gains are not decayed, as in open_clip.
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
    /// sooner. Null: as many as give at least 2,000 optimizer steps, at least 30 and at most 1,000 epochs.
    /// </summary>
    public int? NumberOfEpochs { get; set; }

    /// <summary>Label smoothing of the cross-entropy loss (0 = none).</summary>
    public double LabelSmoothing { get; set; } = 0.0;

    /// <summary>
    /// Seed of the weight initialisation, dropout, shuffling and validation split. Same seed and data → the same
    /// weights, bit for bit, on CPU. Null: drawn from the MLContext (deterministic when the MLContext has a seed).
    /// </summary>
    public int? Seed { get; set; }

    // ---- validation ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Fraction of the examples held out (at random) to measure validation loss and accuracy after every epoch;
    /// 0 trains on everything and turns early stopping off.
    /// </summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>
    /// Stop after this many epochs without a validation-loss improvement larger than
    /// <see cref="EarlyStoppingMinDelta"/> (epochs still warming up do not count). 0 turns early stopping off. With
    /// validation on, the weights of the best epoch are kept either way. Null: the epochs that cover a fifth of the
    /// planned ones, at least 10.
    /// </summary>
    public int? EarlyStoppingPatience { get; set; }

    public double EarlyStoppingMinDelta { get; set; } = 1e-4;

    // ---- progress ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Receives the metrics of every epoch (they also go to the MLContext log), reported synchronously on the training
    /// thread as each epoch ends, in order. <see cref="InlineProgress{T}"/> acts on them right there:
    /// <c>Progress = new InlineProgress&lt;AttentionalPoolerProgress&gt;(p =&gt; Console.WriteLine(p))</c>.
    /// </summary>
    public IProgress<AttentionalPoolerProgress>? Progress { get; set; }

    // ---- device and features -------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="TrainingPrecision.BFloat16"/>: the pooler's matrix products in bfloat16 on float32 weights (autocast's
    /// mixed precision; softmax, LayerNorm and the loss stay float32; the trained weights and the ONNX model are
    /// float32). On a device without bfloat16 support: a warning in the MLContext log and float32. Validation runs in float32.
    /// </summary>
    public TrainingPrecision Precision { get; set; } = TrainingPrecision.Float32;

    /// <summary>
    /// "cpu", "cuda" or "cuda:N" (<see cref="CoCa.MLNet.Runtime.ComputeDevice"/>: the same names as ONNX Runtime's
    /// <see cref="CoCa.MLNet.Runtime.OnnxExecutionOptions.Device"/> and the CLI's <c>--device</c>). CUDA needs a CUDA build of libtorch: reference TorchSharp-cuda-linux (or -windows)
    /// instead of libtorch-cpu in the application. The CoCa.MLNet.Training package ships the CPU build, where a CUDA
    /// device fails with a clear error.
    /// </summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Where the float16 feature cache lives between Fits: reused when its inputs and encoder match (see
    /// <see cref="FeatureCacheKeyColumnNames"/>), so the frozen encoder runs once per example across experiments. Null: no
    /// persistent cache (features are still computed once per Fit).
    /// </summary>
    public string? FeatureCacheDirectory { get; set; }

    /// <summary>
    /// Columns that identify the inputs of the encoder (for instance the image path). Null: every visible scalar column
    /// of text, number, boolean or key type except the features and the label. When no column qualifies, the cache is
    /// keyed by the feature values themselves (computed, then compared). A text value naming a file or folder (the CoCa
    /// featurizers' path column, or any existing path) is keyed by the file's bytes (a folder: its files' names and
    /// bytes) as well, so a file changed under the same name is featurized again.
    /// </summary>
    public string[]? FeatureCacheKeyColumnNames { get; set; }

    /// <summary>
    /// Most bytes of float16 features held in memory; larger datasets go to a file (in
    /// <see cref="FeatureCacheDirectory"/> or the MLContext's temporary folder) read batch by batch. Null: a quarter of the
    /// memory available to the process.
    /// </summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>Examples scored per ONNX Runtime call by the trained model.</summary>
    public int ScoringBatchSize { get; set; } = 64;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        static ArgumentOutOfRangeException Bad(string name, object value, string why) => new(name, value, $"AttentionalPoolerOptions.{name}: {why}");
        foreach (var (name, value) in new[] { (nameof(FeatureColumnName), FeatureColumnName), (nameof(LabelColumnName), LabelColumnName), (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"AttentionalPoolerOptions.{name} must name a column.", nameof(AttentionalPoolerOptions));
        if (NumberOfQueries < 1) throw Bad(nameof(NumberOfQueries), NumberOfQueries, "must be at least 1.");
        if (NumberOfHeads is < 1) throw Bad(nameof(NumberOfHeads), NumberOfHeads, "must be at least 1.");
        if (Dropout is < 0 or >= 1) throw Bad(nameof(Dropout), Dropout, "must be in [0, 1).");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw Bad(nameof(LearningRate), LearningRate, "must be a positive number.");
        if (!(WeightDecay >= 0)) throw Bad(nameof(WeightDecay), WeightDecay, "must be ≥ 0.");
        if (WarmupSteps is < 0) throw Bad(nameof(WarmupSteps), WarmupSteps, "must be ≥ 0.");
        if (BatchSize is < 1) throw Bad(nameof(BatchSize), BatchSize, "must be at least 1.");
        if (NumberOfEpochs is < 1) throw Bad(nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1.");
        if (LabelSmoothing is < 0 or >= 1 || double.IsNaN(LabelSmoothing)) throw Bad(nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1).");
        if (ValidationFraction is < 0 or >= 1 || double.IsNaN(ValidationFraction)) throw Bad(nameof(ValidationFraction), ValidationFraction, "must be in [0, 1).");
        if (EarlyStoppingPatience is < 0) throw Bad(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be ≥ 0.");
        if (MemoryBudgetBytes is < 0) throw Bad(nameof(MemoryBudgetBytes), MemoryBudgetBytes, "must be ≥ 0.");
        if (ScoringBatchSize < 1) throw Bad(nameof(ScoringBatchSize), ScoringBatchSize, "must be at least 1.");
        if (!Enum.IsDefined(Precision)) throw Bad(nameof(Precision), Precision, "must be Float32 or BFloat16.");
    }

    /// <summary>
    /// Checks the options that depend on the features' <paramref name="shape"/> (known once the data is seen; after
    /// <see cref="Validate()"/>): the heads must divide the token width, frame embeddings need video features.
    /// </summary>
    internal void Validate(TokenShape shape)
    {
        int heads = HeadsFor(shape);
        if (shape.Dim % heads != 0)
            throw new ArgumentOutOfRangeException(nameof(AttentionalPoolerTrainer.Options), heads, $"NumberOfHeads ({heads}) must divide the token width D = {shape.Dim}.");
        if (FrameEmbeddingsFor(shape) && shape.Frames < 2)
            throw new ArgumentException($"FrameEmbeddings needs video features [F, T, D] with F ≥ 2; '{FeatureColumnName}' has one frame {shape}.", nameof(AttentionalPoolerTrainer.Options));
    }

    /// <summary>The attention heads for tokens of <paramref name="shape"/>: <see cref="NumberOfHeads"/>, or the default for their width.</summary>
    internal int HeadsFor(TokenShape shape) => NumberOfHeads ?? AttentionalPoolerConfig.DefaultHeads(shape.Dim);

    /// <summary>Whether the pooler learns frame embeddings for features of <paramref name="shape"/>: <see cref="FrameEmbeddings"/>, or whether they are video.</summary>
    internal bool FrameEmbeddingsFor(TokenShape shape) => FrameEmbeddings ?? shape.Frames > 1;
}

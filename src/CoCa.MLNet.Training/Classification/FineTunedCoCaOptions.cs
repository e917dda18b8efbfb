using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Training.Classification;

/// <summary>
/// Options of <see cref="FineTunedCoCaTrainer"/>: the paper's "CoCa (finetuned)" protocol — the image encoder of an
/// open_clip CoCa checkpoint trained together with a new attentional pooler and linear classifier under softmax
/// cross-entropy. The pooler, the plan and the validation are the frozen trainer's (<see cref="AttentionalPoolerOptions"/>);
/// what is added: which encoder blocks train, their (lower) learning rate, gradient clipping and augmentation.
/// </summary>
public sealed class FineTunedCoCaOptions
{
    // ---- model and columns ---------------------------------------------------------------------------------------

    /// <summary>
    /// The open_clip CoCa checkpoint folder the encoder starts from (<c>open_clip_config.json</c> + weights, the
    /// Hugging Face hub layout; only the <c>visual.*</c> weights are read). Required.
    /// </summary>
    public string Checkpoint { get; set; } = "";

    /// <summary>
    /// Input: an image path (text) or an <c>MLImage</c> per row; with <see cref="FrameCount"/> set, a video file or a
    /// folder of frame images per row. Default <see cref="CoCaColumnNames.Image"/> (<see cref="CoCaColumnNames.Video"/> for video).
    /// </summary>
    public string? InputColumnName { get; set; }

    /// <summary>Folder that relative paths in <see cref="InputColumnName"/> are resolved against (null: as given).</summary>
    public string? InputFolder { get; set; }

    /// <summary>
    /// Video: frames sampled uniformly from each video (as the video featurizer samples them), encoded by the shared
    /// encoder and pooled together with frame embeddings. Null: images.
    /// </summary>
    public int? FrameCount { get; set; }

    /// <summary>Key-typed label column (e.g. from <c>MapValueToKey</c>).</summary>
    public string LabelColumnName { get; set; } = CoCaColumnNames.Label;

    /// <summary>Output: class probabilities, Vector&lt;Single, K&gt;.</summary>
    public string ScoreColumnName { get; set; } = CoCaColumnNames.Score;

    /// <summary>Output: the most probable class, a key of the label's type.</summary>
    public string PredictedLabelColumnName { get; set; } = CoCaColumnNames.PredictedLabel;

    // ---- what trains ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Encoder blocks that train, counted from the top; the stem (patch embedding, class token, positions) trains only
    /// with all of them. Null: all. With fewer and no <see cref="Augment"/>, the frozen lower part runs once per example
    /// (its output kept in float16, like the frozen trainer's features) and each epoch runs only the top blocks and the
    /// pooler. 0 is the frozen protocol computed in-process.
    /// </summary>
    public int? TrainableBlocks { get; set; }

    /// <summary>Learnable queries of the new pooler; with several, the classifier sees their mean.</summary>
    public int NumberOfQueries { get; set; } = 1;

    /// <summary>Attention heads of the new pooler; null: D/64 (at least 1, lowered until it divides D).</summary>
    public int? NumberOfHeads { get; set; }

    /// <summary>Dropout before the classifier.</summary>
    public double Dropout { get; set; } = 0.0;

    // ---- optimisation ----------------------------------------------------------------------------------------------

    /// <summary>Peak learning rate of AdamW for the new pooler and classifier.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Peak learning rate of the encoder's trained blocks (fine-tuning moves pretrained weights gently). Null: <see cref="LearningRate"/> / 10.</summary>
    public double? EncoderLearningRate { get; set; }

    /// <summary>
    /// Layer-wise learning-rate decay: block i from the top learns at <see cref="EncoderLearningRate"/> × decay^i (the
    /// stem as the block below the lowest). 1 (the default): the same rate for every block.
    /// </summary>
    public double LayerDecay { get; set; } = 1.0;

    /// <summary>
    /// AdamW's decoupled weight decay, by open_clip's groups: matrices and embeddings decay; biases, LayerNorm and
    /// 1-dimensional parameters do not.
    /// </summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Clip the global gradient norm to this (0: no clipping).</summary>
    public double GradientClipNorm { get; set; } = 1.0;

    /// <summary>
    /// Light augmentation while training: a random resized crop (60–100 % of the area, aspect 3:4 to 4:3) and a
    /// horizontal flip of the preprocessed image, from the seed. Off by default, so that results stay deterministic
    /// and the frozen lower blocks can be cached.
    /// </summary>
    public bool Augment { get; set; }

    /// <summary>Warmup steps (linear from 0), then cosine decay. Null: a tenth of the planned steps, at most 500.</summary>
    public int? WarmupSteps { get; set; }

    /// <summary>Examples per optimizer step. Null: a tenth of the training examples rounded down to a power of two, 8 to 64.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Maximum passes over the training data. Null: as many as give 500 optimizer steps, at least 10 and at most 100.</summary>
    public int? NumberOfEpochs { get; set; }

    /// <summary>Label smoothing of the cross-entropy loss (0 = none).</summary>
    public double LabelSmoothing { get; set; } = 0.0;

    /// <summary>Seed of the new weights, dropout, shuffling, augmentation and validation split. Null: from the MLContext.</summary>
    public int? Seed { get; set; }

    // ---- validation ------------------------------------------------------------------------------------------------

    /// <summary>Fraction held out to measure validation loss and accuracy after every epoch; the best epoch's weights are kept.</summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Stop after this many epochs without a better validation loss (0: never). Null: a fifth of the planned epochs, at least 10.</summary>
    public int? EarlyStoppingPatience { get; set; }

    public double EarlyStoppingMinDelta { get; set; } = 1e-4;

    // ---- speed and memory ------------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="TrainingPrecision.BFloat16"/>: the trained blocks', pooler's and head's matrix products and activations in
    /// bfloat16 on float32 weights (autocast's mixed precision; LayerNorm, softmax and the loss stay float32; the fine-tuned
    /// encoder and pooler are float32, as their ONNX models). Validation, and the cached outputs of frozen lower blocks, are float32. On a
    /// device without bfloat16 support: a warning in the MLContext log and float32.
    /// </summary>
    public TrainingPrecision Precision { get; set; } = TrainingPrecision.Float32;

    /// <summary>
    /// Keep only each trained encoder block's input during the forward pass and recompute the block in the backward pass:
    /// much less activation memory for one more forward pass of the trained blocks per step; the gradients are the same.
    /// </summary>
    public bool CheckpointActivations { get; set; }

    // ---- progress, device, cache -----------------------------------------------------------------------------------

    /// <summary>Receives every epoch's metrics on the training thread, in order (see <see cref="InlineProgress{T}"/>).</summary>
    public IProgress<AttentionalPoolerProgress>? Progress { get; set; }

    /// <summary>"cpu", "cuda" or "cuda:N" for training (CUDA needs a CUDA build of libtorch). Scoring runs on ONNX Runtime.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Where the float16 outputs of the frozen lower blocks (partial fine-tuning) are kept between Fits, keyed by the
    /// checkpoint, the number of frozen blocks and each input file's bytes. Null: computed once per Fit.
    /// </summary>
    public string? FeatureCacheDirectory { get; set; }

    /// <summary>Most bytes of cached float16 tokens held in memory (more go to a file). Null: a quarter of the available memory.</summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>Images (or video frames) per ONNX Runtime call of the fitted model.</summary>
    public int ScoringBatchSize { get; set; } = 32;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        static ArgumentOutOfRangeException Bad(string name, object? value, string why) => new(name, value, $"FineTunedCoCaOptions.{name}: {why}");
        if (string.IsNullOrWhiteSpace(Checkpoint))
            throw new ArgumentException("FineTunedCoCaOptions.Checkpoint must name an open_clip CoCa checkpoint folder (open_clip_config.json + weights).");
        foreach (var (name, value) in new[] { (nameof(LabelColumnName), LabelColumnName), (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"FineTunedCoCaOptions.{name} must name a column.");
        if (InputColumnName is { } input && string.IsNullOrWhiteSpace(input)) throw new ArgumentException("FineTunedCoCaOptions.InputColumnName must name a column (or be null for the default).");
        if (FrameCount is < 1) throw Bad(nameof(FrameCount), FrameCount, "must be at least 1 (or null for images).");
        if (TrainableBlocks is < 0) throw Bad(nameof(TrainableBlocks), TrainableBlocks, "must be 0 or more (null: all blocks).");
        if (NumberOfQueries < 1) throw Bad(nameof(NumberOfQueries), NumberOfQueries, "must be at least 1.");
        if (NumberOfHeads is < 1) throw Bad(nameof(NumberOfHeads), NumberOfHeads, "must be at least 1.");
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout)) throw Bad(nameof(Dropout), Dropout, "must be in [0, 1).");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw Bad(nameof(LearningRate), LearningRate, "must be a positive number.");
        if (EncoderLearningRate is { } e && (!(e > 0) || !double.IsFinite(e))) throw Bad(nameof(EncoderLearningRate), e, "must be a positive number (or null: LearningRate / 10).");
        if (!(LayerDecay > 0 && LayerDecay <= 1)) throw Bad(nameof(LayerDecay), LayerDecay, "must be in (0, 1].");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw Bad(nameof(WeightDecay), WeightDecay, "must be ≥ 0.");
        if (!(GradientClipNorm >= 0) || !double.IsFinite(GradientClipNorm)) throw Bad(nameof(GradientClipNorm), GradientClipNorm, "must be ≥ 0 (0: no clipping).");
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
}

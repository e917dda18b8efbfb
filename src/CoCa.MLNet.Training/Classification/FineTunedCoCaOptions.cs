using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Training.Classification;

/// <summary>
/// Options of <see cref="FineTunedCoCaTrainer"/>: the paper's "CoCa (finetuned)" protocol — the image encoder of an
/// open_clip CoCa checkpoint trained together with a new attentional pooler and linear classifier under softmax
/// cross-entropy. The columns, pooler, plan, validation and device options are the frozen trainer's (<see cref="PoolerClassifierOptions"/>);
/// what is added: which encoder blocks train, their (lower) learning rate, gradient clipping and augmentation.
/// </summary>
public sealed class FineTunedCoCaOptions : PoolerClassifierOptions
{
    // ---- model and input ------------------------------------------------------------------------------------------

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

    // ---- what trains, and how --------------------------------------------------------------------------------------

    /// <summary>
    /// Encoder blocks that train, counted from the top; the stem (patch embedding, class token, positions) trains only
    /// with all of them. Null: all. With fewer and no <see cref="Augment"/>, the frozen lower part runs once per example
    /// (its output kept in float16, like the frozen trainer's features) and each epoch runs only the top blocks and the
    /// pooler. 0 is the frozen protocol computed in-process.
    /// </summary>
    public int? TrainableBlocks { get; set; }

    /// <summary>
    /// Peak learning rate of the encoder's trained blocks (fine-tuning moves pretrained weights gently). Null:
    /// <see cref="PoolerClassifierOptions.LearningRate"/> / 10.
    /// </summary>
    public double? EncoderLearningRate { get; set; }

    /// <summary>
    /// Layer-wise learning-rate decay: block i from the top learns at <see cref="EncoderLearningRate"/> × decay^i (the
    /// stem as the block below the lowest). 1 (the default): the same rate for every block.
    /// </summary>
    public double LayerDecay { get; set; } = 1.0;

    /// <summary>Clip the global gradient norm to this (0: no clipping).</summary>
    public double GradientClipNorm { get; set; } = 1.0;

    /// <summary>
    /// Light augmentation while training: a random resized crop (60–100 % of the area, aspect 3:4 to 4:3) and a
    /// horizontal flip of the preprocessed image, from the seed. Off by default, so that results stay deterministic
    /// and the frozen lower blocks can be cached.
    /// </summary>
    public bool Augment { get; set; }

    // ---- speed, memory, cache --------------------------------------------------------------------------------------

    /// <summary>
    /// Keep only each trained encoder block's input during the forward pass and recompute the block in the backward pass:
    /// much less activation memory for one more forward pass of the trained blocks per step; the gradients are the same.
    /// </summary>
    public bool CheckpointActivations { get; set; }

    /// <summary>
    /// Where the float16 outputs of the frozen lower blocks (partial fine-tuning) are kept between Fits, keyed by the
    /// checkpoint, the number of frozen blocks and each input file's bytes. Null: computed once per Fit.
    /// </summary>
    public string? FeatureCacheDirectory { get; set; }

    /// <summary>Images (or video frames) per ONNX Runtime call of the fitted model.</summary>
    public int ScoringBatchSize { get; set; } = 32;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        static ArgumentOutOfRangeException Bad(string name, object? value, string why) => new(name, value, $"FineTunedCoCaOptions.{name}: {why}");
        if (string.IsNullOrWhiteSpace(Checkpoint))
            throw new ArgumentException("FineTunedCoCaOptions.Checkpoint must name an open_clip CoCa checkpoint folder (open_clip_config.json + weights).");
        if (InputColumnName is { } input && string.IsNullOrWhiteSpace(input)) throw new ArgumentException("FineTunedCoCaOptions.InputColumnName must name a column (or be null for the default).");
        if (FrameCount is < 1) throw Bad(nameof(FrameCount), FrameCount, "must be at least 1 (or null for images).");
        ValidateShared();
        if (TrainableBlocks is < 0) throw Bad(nameof(TrainableBlocks), TrainableBlocks, "must be 0 or more (null: all blocks).");
        if (EncoderLearningRate is { } e && (!(e > 0) || !double.IsFinite(e))) throw Bad(nameof(EncoderLearningRate), e, "must be a positive number (or null: LearningRate / 10).");
        if (!(LayerDecay > 0 && LayerDecay <= 1)) throw Bad(nameof(LayerDecay), LayerDecay, "must be in (0, 1].");
        if (!(GradientClipNorm >= 0) || !double.IsFinite(GradientClipNorm)) throw Bad(nameof(GradientClipNorm), GradientClipNorm, "must be ≥ 0 (0: no clipping).");
        if (ScoringBatchSize < 1) throw Bad(nameof(ScoringBatchSize), ScoringBatchSize, "must be at least 1.");
    }

    /// <summary>Checks the options that depend on the encoder's token <paramref name="shape"/> (known once the checkpoint is read).</summary>
    internal void Validate(TokenShape shape) => ValidateHeads(shape, nameof(FineTunedCoCaTrainer.Options));
}

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Options of <see cref="AttentionalPoolerTrainer"/>: the CoCa frozen-feature protocol (a new attentional pooler and a
/// linear classifier trained with softmax cross-entropy over the tokens of a frozen encoder). The columns, pooler,
/// optimizer, validation and device options are the classifiers' shared ones (<see cref="PoolerClassifierOptions"/>).
/// </summary>
public sealed class AttentionalPoolerOptions : PoolerClassifierOptions
{
    /// <summary>
    /// Float vector column of tokens with dimensions [T, D] (images) or [F, T, D] (video, F frames). The default is the
    /// featurizers' tokens column (<see cref="CoCaColumnNames.Tokens"/>), so a featurizer appended with this trainer needs no column names.
    /// </summary>
    public string FeatureColumnName { get; set; } = CoCaColumnNames.Tokens;

    /// <summary>
    /// Learned per-frame embeddings added to the tokens of each frame, so the pooler can tell frames apart (classes
    /// that depend on frame order). Null: on when the features have more than one frame.
    /// </summary>
    public bool? FrameEmbeddings { get; set; }

    /// <summary>
    /// Where the float16 feature cache lives between Fits: reused when its inputs and encoder match (see
    /// <see cref="FeatureCacheKeyColumnNames"/>), so the frozen encoder runs once per example across experiments. Null: no
    /// persistent cache (features are still computed once per Fit). Features that do not fit
    /// <see cref="PoolerClassifierOptions.MemoryBudgetBytes"/> go to a file here (or in the MLContext's temporary folder).
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

    /// <summary>Examples scored per ONNX Runtime call by the trained model.</summary>
    public int ScoringBatchSize { get; set; } = 64;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(FeatureColumnName))
            throw new ArgumentException($"AttentionalPoolerOptions.{nameof(FeatureColumnName)} must name a column.", nameof(AttentionalPoolerOptions));
        ValidateShared();
        if (ScoringBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(ScoringBatchSize), ScoringBatchSize, "AttentionalPoolerOptions.ScoringBatchSize: must be at least 1.");
    }

    /// <summary>
    /// Checks the options that depend on the features' <paramref name="shape"/> (known once the data is seen; after
    /// <see cref="Validate()"/>): the heads must divide the token width, frame embeddings need video features.
    /// </summary>
    internal void Validate(TokenShape shape)
    {
        ValidateHeads(shape, nameof(AttentionalPoolerTrainer.Options));
        if (FrameEmbeddingsFor(shape) && shape.Frames < 2)
            throw new ArgumentException($"FrameEmbeddings needs video features [F, T, D] with F ≥ 2; '{FeatureColumnName}' has one frame {shape}.", nameof(AttentionalPoolerTrainer.Options));
    }

    /// <summary>Whether the pooler learns frame embeddings for features of <paramref name="shape"/>: <see cref="FrameEmbeddings"/>, or whether they are video.</summary>
    internal bool FrameEmbeddingsFor(TokenShape shape) => FrameEmbeddings ?? shape.Frames > 1;
}

using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Scoring;

/// <summary>Options of <see cref="CoCaZeroShotEstimator"/>.</summary>
public sealed class CoCaZeroShotOptions
{
    /// <summary>A converted model folder with the text tower (from <c>coca convert</c>).</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>open_clip's CLIP vocabulary (<c>bpe_simple_vocab_16e6.txt.gz</c>, or vocab.json with merges.txt).</summary>
    public string VocabPath { get; set; } = "";

    /// <summary>The class names, in label order: class i becomes key value i+1 of <c>PredictedLabel</c>.</summary>
    public IReadOnlyList<string> ClassNames { get; set; } = [];

    /// <summary>Prompt templates with a <c>{c}</c> placeholder; the class embedding is the normalized mean over them.</summary>
    public IReadOnlyList<string> Templates { get; set; } = CoCaZeroShotTemplates.Default;

    /// <summary>The input column of CoCa image (or video) embeddings, a float vector [E] (normalized here).</summary>
    public string FeatureColumnName { get; set; } = CoCaColumnNames.Embedding;

    /// <summary>Output: class probabilities softmax(LogitScale · cos), a float vector [K] with the class names as slot names.</summary>
    public string ScoreColumnName { get; set; } = CoCaColumnNames.Score;

    /// <summary>Output: the most probable class, a key with the class names as key values.</summary>
    public string PredictedLabelColumnName { get; set; } = CoCaColumnNames.PredictedLabel;

    /// <summary>
    /// Checked, not read: a key column of this name in the data scored (the label for <c>Evaluate</c>) must have the class
    /// names as key values in <see cref="ClassNames"/> order (<c>MapValueToKey</c> with <c>keyData</c> over them), else
    /// scoring refuses it, since Evaluate compares keys by position.
    /// </summary>
    public string LabelColumnName { get; set; } = CoCaColumnNames.Label;

    /// <summary>Multiplies the cosine similarities before the softmax (open_clip's zero-shot evaluation uses 100).</summary>
    public float LogitScale { get; set; } = 100f;

    /// <summary>Prompts per text-tower call while the class embeddings are computed.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Threads and GPU switch for ONNX Runtime (used only while fitting).</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("CoCaZeroShotOptions.ModelPath must name a converted model folder with the text tower (from `coca convert`).");
        if (string.IsNullOrWhiteSpace(VocabPath))
            throw new ArgumentException("CoCaZeroShotOptions.VocabPath must name the CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt).");
        CoCaZeroShotEstimator.ValidateClasses(ClassNames, Templates);
        CoCaZeroShotTransformer.ValidateColumns(FeatureColumnName, ScoreColumnName, PredictedLabelColumnName);
        if (string.IsNullOrWhiteSpace(LabelColumnName))
            throw new ArgumentException("CoCaZeroShotOptions.LabelColumnName must name a column (the label checked against the class names).");
        if (!float.IsFinite(LogitScale) || LogitScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(LogitScale), LogitScale, "CoCaZeroShotOptions.LogitScale must be a positive number.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "CoCaZeroShotOptions.BatchSize must be at least 1.");
    }
}

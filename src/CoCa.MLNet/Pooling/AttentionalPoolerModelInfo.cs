using CoCa.MLNet.Scoring;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Pooling;

/// <summary>What a trained attentional pooler needs besides its weights: columns, classes and how to run it.</summary>
internal sealed record AttentionalPoolerModelInfo
{
    public required AttentionalPoolerConfig Config { get; init; }

    /// <summary>Input tokens column: [T, D] or [F, T, D] float vectors, as in training (saved models keep the name they were trained with).</summary>
    public string FeatureColumnName { get; init; } = CoCaColumnNames.Tokens;

    /// <summary>The training label column; when scored data has it, its values are checked against the trained classes.</summary>
    public string LabelColumnName { get; init; } = CoCaColumnNames.Label;

    public string ScoreColumnName { get; init; } = CoCaColumnNames.Score;

    public string PredictedLabelColumnName { get; init; } = CoCaColumnNames.PredictedLabel;

    /// <summary>The label's key values (class names), or null when the training label had none.</summary>
    public string? LabelValueType { get; init; }

    public string[]? LabelValues { get; init; }

    /// <summary>Training examples per class (index k = key k+1); a class with none was never seen in training.</summary>
    public required int[] TrainingExamplesPerClass { get; init; }

    /// <summary>Examples per ONNX Runtime call.</summary>
    public int BatchSize { get; init; } = 64;

    public OnnxExecutionOptions Execution { get; init; } = new();

    internal ClassLabelValues? ClassLabels => LabelValueType is null || LabelValues is null ? null : new ClassLabelValues(LabelValueType, LabelValues);

    internal void Validate()
    {
        Config.Validate();
        if (TrainingExamplesPerClass.Length != Config.Classes)
            throw new ArgumentException($"Pooler model: {TrainingExamplesPerClass.Length} class counts for {Config.Classes} classes.");
        if (LabelValues is not null && LabelValues.Length != Config.Classes)
            throw new ArgumentException($"Pooler model: {LabelValues.Length} label values for {Config.Classes} classes.");
        if (BatchSize < 1) throw new ArgumentException($"Pooler model: BatchSize must be at least 1, got {BatchSize}.");
        foreach (var (name, value) in new[] { ("FeatureColumnName", FeatureColumnName), ("ScoreColumnName", ScoreColumnName), ("PredictedLabelColumnName", PredictedLabelColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"Pooler model: {name} is empty.");
    }
}

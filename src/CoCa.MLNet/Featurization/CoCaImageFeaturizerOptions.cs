using CoCa.MLNet.Transforms;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>Options of <see cref="CoCaImageFeaturizerEstimator"/>.</summary>
public sealed class CoCaImageFeaturizerOptions
{
    /// <summary>A converted model folder (from <c>coca convert</c>) or its coca.json.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>The input column: an image path (text) or an <c>MLImage</c>.</summary>
    public string InputColumnName { get; set; } = CoCaColumnNames.Image;

    /// <summary>Output column of the encoder's tokens, a float vector with dimensions [T, D]; null for none.</summary>
    public string? TokensColumnName { get; set; } = CoCaColumnNames.Tokens;

    /// <summary>Output column of CoCa's contrastive image embedding (not normalized), [E]; null for none.</summary>
    public string? EmbeddingColumnName { get; set; } = CoCaColumnNames.Embedding;

    /// <summary>Folder that relative image paths are resolved against (default: the current directory).</summary>
    public string? ImageFolder { get; set; }

    /// <summary>Images per ONNX Runtime call.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Threads and GPU switch for ONNX Runtime.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("CoCaImageFeaturizerOptions.ModelPath must name a converted model folder (from `coca convert`).");
        if (TokensColumnName is null && EmbeddingColumnName is null)
            throw new ArgumentException("CoCaImageFeaturizerOptions: nothing to extract; set TokensColumnName and/or EmbeddingColumnName.");
        SchemaShapes.RequireDistinctOutputs(nameof(CoCaImageFeaturizerOptions), nameof(TokensColumnName), TokensColumnName, nameof(EmbeddingColumnName), EmbeddingColumnName);
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "CoCaImageFeaturizerOptions.BatchSize must be at least 1.");
    }
}

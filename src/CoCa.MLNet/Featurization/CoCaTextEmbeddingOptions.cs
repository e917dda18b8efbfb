using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>Options of <see cref="CoCaTextEmbeddingEstimator"/>.</summary>
public sealed class CoCaTextEmbeddingOptions
{
    /// <summary>A converted model folder (from <c>coca convert</c> of a checkpoint with the text tower) or its coca.json.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>
    /// open_clip's CLIP vocabulary: <c>bpe_simple_vocab_16e6.txt.gz</c>, or a <c>vocab.json</c> with <c>merges.txt</c>
    /// beside it. Its bytes are stored inside a model saved with SaveCoCa.
    /// </summary>
    public string VocabPath { get; set; } = "";

    /// <summary>The input text column.</summary>
    public string InputColumnName { get; set; } = CoCaColumnNames.Text;

    /// <summary>Output column of CoCa's contrastive text embedding (not normalized), [E].</summary>
    public string OutputColumnName { get; set; } = CoCaColumnNames.TextEmbedding;

    /// <summary>Texts per ONNX Runtime call.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Threads and GPU switch for ONNX Runtime.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("CoCaTextEmbeddingOptions.ModelPath must name a converted model folder (from `coca convert`).");
        if (string.IsNullOrWhiteSpace(VocabPath))
            throw new ArgumentException("CoCaTextEmbeddingOptions.VocabPath must name the CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt).");
        if (string.IsNullOrWhiteSpace(InputColumnName) || string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException("CoCaTextEmbeddingOptions needs input and output column names.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "CoCaTextEmbeddingOptions.BatchSize must be at least 1.");
    }
}

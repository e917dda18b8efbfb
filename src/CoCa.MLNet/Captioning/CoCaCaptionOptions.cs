using CoCa.MLNet.Transforms;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Captioning;

/// <summary>Options of <see cref="CoCaCaptionEstimator"/> (<c>mlContext.Transforms.GenerateCoCaCaption</c>).</summary>
public sealed class CoCaCaptionOptions
{
    /// <summary>A converted model folder with the caption decoder (from <c>coca convert</c> of a full checkpoint) or its coca.json.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>
    /// open_clip's CLIP vocabulary: <c>bpe_simple_vocab_16e6.txt.gz</c>, or a <c>vocab.json</c> with <c>merges.txt</c>
    /// beside it (to turn ids into text). Its bytes are stored inside a model saved with SaveCoCa.
    /// </summary>
    public string VocabPath { get; set; } = "";

    /// <summary>
    /// The input column: image paths (text) or <c>MLImage</c>s. For videos, caption the frames you care about: sample
    /// them as images (e.g. a folder of frames, or <c>VideoReader</c>) and give one row per frame; CoCa's decoder
    /// captions single images, and open_clip has no video captioning.
    /// </summary>
    public string InputColumnName { get; set; } = CoCaColumnNames.Image;

    /// <summary>Output text column: the caption (start/end tokens removed, stripped).</summary>
    public string OutputColumnName { get; set; } = CoCaColumnNames.Caption;

    /// <summary>Optional int64 vector column of the caption's ids (start token first, end token last when it ended early); null for none.</summary>
    public string? IdsColumnName { get; set; }

    /// <summary>Relative image paths are resolved against this folder.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>Decoding: beam search, greedy, top-k or top-p, lengths, sampling seed (open_clip's generate() defaults).</summary>
    public CaptionGenerationOptions Generation { get; set; } = new();

    /// <summary>Images captioned together (one vision call and one batched decoding).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Threads and GPU switch for ONNX Runtime.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("CoCaCaptionOptions.ModelPath must name a converted model folder (from `coca convert`).");
        if (string.IsNullOrWhiteSpace(VocabPath))
            throw new ArgumentException("CoCaCaptionOptions.VocabPath must name the CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt).");
        if (string.IsNullOrWhiteSpace(InputColumnName) || string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException("CoCaCaptionOptions needs input and output column names.");
        SchemaShapes.RequireDistinctOutputs(nameof(CoCaCaptionOptions), nameof(OutputColumnName), OutputColumnName, nameof(IdsColumnName), IdsColumnName);
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "CoCaCaptionOptions.BatchSize must be at least 1.");
        ArgumentNullException.ThrowIfNull(Generation);
        Generation.Validate(int.MaxValue);
    }
}

using CoCa.MLNet.Transforms;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>Options of <see cref="CoCaVideoFeaturizerEstimator"/>.</summary>
public sealed class CoCaVideoFeaturizerOptions
{
    /// <summary>A converted model folder (from <c>coca convert</c>) or its coca.json.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>The input column: a video file path, or a folder of frame images (sorted by name).</summary>
    public string InputColumnName { get; set; } = CoCaColumnNames.Video;

    /// <summary>Frames sampled uniformly over each video's whole duration (fewer source frames: repeated uniformly).</summary>
    public int FrameCount { get; set; } = 16;

    /// <summary>Output column of all frames' encoder tokens, a float vector with dimensions [F, T, D]; null for none.</summary>
    public string? TokensColumnName { get; set; } = CoCaColumnNames.Tokens;

    /// <summary>Output column of the video embedding: the mean of the F frame embeddings, [E]; null for none.</summary>
    public string? EmbeddingColumnName { get; set; } = CoCaColumnNames.Embedding;

    /// <summary>Folder that relative video paths are resolved against.</summary>
    public string? VideoFolder { get; set; }

    /// <summary>Frames per encoder call (whole videos are batched together up to this many frames).</summary>
    public int FrameBatchSize { get; set; } = 32;

    /// <summary>Threads and GPU switch for ONNX Runtime.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>ffmpeg/ffprobe locations and the decoding timeout.</summary>
    public string FfmpegPath { get; set; } = "ffmpeg";
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option and what is expected.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("CoCaVideoFeaturizerOptions.ModelPath must name a converted model folder (from `coca convert`).");
        if (TokensColumnName is null && EmbeddingColumnName is null)
            throw new ArgumentException("CoCaVideoFeaturizerOptions: nothing to extract; set TokensColumnName and/or EmbeddingColumnName.");
        SchemaShapes.RequireDistinctOutputs(nameof(CoCaVideoFeaturizerOptions), nameof(TokensColumnName), TokensColumnName, nameof(EmbeddingColumnName), EmbeddingColumnName);
        if (FrameCount < 1)
            throw new ArgumentOutOfRangeException(nameof(FrameCount), FrameCount, "CoCaVideoFeaturizerOptions.FrameCount must be at least 1.");
        if (FrameBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(FrameBatchSize), FrameBatchSize, "CoCaVideoFeaturizerOptions.FrameBatchSize must be at least 1.");
    }
}

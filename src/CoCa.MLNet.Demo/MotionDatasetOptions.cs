using CoCa.MLNet.Video;

namespace CoCa.MLNet.Demo;

/// <summary>Settings of <see cref="VideoDatasetGenerator.GenerateMotionDataset"/>.</summary>
public sealed record MotionDatasetOptions
{
    /// <summary>Videos written per direction (class).</summary>
    public int VideosPerClass { get; init; } = 8;
    /// <summary>Frame width in pixels (even for H.264/VP9).</summary>
    public int Width { get; init; } = 64;
    /// <summary>Frame height in pixels (even for H.264/VP9).</summary>
    public int Height { get; init; } = 64;
    /// <summary>Frames per video.</summary>
    public int FrameCount { get; init; } = 16;
    public double FramesPerSecond { get; init; } = 8;
    public VideoOutputFormat Format { get; init; } = VideoOutputFormat.Mp4H264;
    /// <summary>The classes; each becomes a sub-folder named after the direction in lower case ("left", "right", …).</summary>
    public IReadOnlyList<MotionDirection> Directions { get; init; } = [MotionDirection.Left, MotionDirection.Right, MotionDirection.Up, MotionDirection.Down];
    /// <summary>Seeds everything; the same seed and options give the same frames.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>The square's side as a fraction of the smaller frame side.</summary>
    public double SquareFraction { get; init; } = 0.25;
    /// <summary>Peak-to-peak amplitude (0–255) of the static per-pixel noise of the dark background.</summary>
    public int NoiseAmplitude { get; init; } = 40;
    /// <summary>
    /// When true (default) the square's colour encodes time, red at the first frame to blue at the last. A pooler
    /// over the set of all frames' tokens cannot tell frame order unless the tokens carry it (temporal embeddings):
    /// left and right motion show the same set of square positions. The colour makes the order visible in each frame.
    /// When false the square is white in every frame.
    /// </summary>
    public bool ColourEncodesTime { get; init; } = true;
}

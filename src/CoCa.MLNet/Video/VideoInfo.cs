namespace CoCa.MLNet.Video;

/// <summary>Where a video's frames come from.</summary>
public enum VideoSourceKind
{
    /// <summary>A video file decoded by ffmpeg.</summary>
    File,
    /// <summary>A folder of frame images (png/jpg/…), frames in ordinal file-name order.</summary>
    ImageFolder,
}

/// <summary>How <see cref="VideoInfo.FrameCount"/> was obtained, from cheapest to most exact.</summary>
public enum FrameCountSource
{
    /// <summary>The container's frame count (ffprobe <c>nb_frames</c>, e.g. mp4, avi).</summary>
    ContainerHeader,
    /// <summary>Counted video packets (ffprobe <c>-count_packets</c>: demuxes, does not decode; e.g. webm/mkv).</summary>
    CountedPackets,
    /// <summary>Duration × average frame rate, when neither of the above is available.</summary>
    DurationTimesFrameRate,
    /// <summary>Counted decoded frames (ffprobe <c>-count_frames</c>), used when the decoder delivered fewer frames than the container announced (e.g. an mp4 cut with <c>-c copy</c>, whose edit list hides frames).</summary>
    DecodedFrames,
    /// <summary>The number of frame images in a folder.</summary>
    ImageFiles,
}

/// <summary>
/// What a probe learned about a video. <see cref="Width"/>/<see cref="Height"/> are the displayed size (rotation
/// metadata applied, as ffmpeg's decoder output is); frames may still differ, e.g. images of mixed sizes in a folder.
/// </summary>
public sealed record VideoInfo
{
    /// <summary>The file or folder as given (full path).</summary>
    public required string Path { get; init; }
    public required VideoSourceKind Kind { get; init; }
    /// <summary>Number of source frames N the sampling indices refer to.</summary>
    public required int FrameCount { get; init; }
    public required FrameCountSource FrameCountSource { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>Duration when the container states it; null for frame folders.</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Average frame rate (frames/s) when known.</summary>
    public double? FrameRate { get; init; }
    /// <summary>ffprobe's codec name (h264, vp9, mjpeg, …); null for frame folders.</summary>
    public string? CodecName { get; init; }
    /// <summary>ffprobe's container name (e.g. "mov,mp4,m4a,3gp,3g2,mj2"); null for frame folders.</summary>
    public string? ContainerFormat { get; init; }
    /// <summary>Index of the decoded video stream in the file (the first video stream that is not cover art); −1 for frame folders.</summary>
    public int StreamIndex { get; init; } = -1;
    /// <summary>Rotation (degrees) from the stream's display matrix; ffmpeg applies it while decoding.</summary>
    public int Rotation { get; init; }
    /// <summary>The frame images in order, for <see cref="VideoSourceKind.ImageFolder"/>; empty for files.</summary>
    public IReadOnlyList<string> FrameFiles { get; init; } = [];
}

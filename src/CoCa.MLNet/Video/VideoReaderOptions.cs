using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>Where ffmpeg is, how long a decode may take, and how frame images in a folder are decoded.</summary>
public sealed record VideoReaderOptions
{
    /// <summary>The ffmpeg executable (a name looked up on PATH, or a path). Debian: <c>apt-get install ffmpeg</c>.</summary>
    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>The ffprobe executable (shipped with ffmpeg).</summary>
    public string FfprobePath { get; init; } = "ffprobe";

    /// <summary>
    /// Longest time one ffmpeg/ffprobe run may take before it is killed and the read fails naming the file;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none. Sampling decodes the video up to its last
    /// sampled frame, so long videos need proportionally longer.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Decodes one frame image of a frame folder; null uses <see cref="CoCa.MLNet.Preprocessing.ImageDecoder"/>,
    /// so folder frames decode exactly like single images.
    /// </summary>
    public Func<string, RgbImage>? FrameImageDecoder { get; init; }

    /// <summary>File extensions (case-insensitive, with dot) that count as frames in a frame folder; other files are ignored.</summary>
    public IReadOnlyCollection<string> FrameImageExtensions { get; init; } = [.. Preprocessing.ImageFiles.Extensions];

    public static VideoReaderOptions Default { get; } = new();
}

namespace CoCa.MLNet.Video;

/// <summary>
/// Which paths are videos: files in the containers ffmpeg reads (by extension) and folders of frame images (frames:
/// <see cref="Preprocessing.ImageFiles"/>). The one list that folder readers (the CLI, pairs files, the samples) use.
/// </summary>
public static class VideoFiles
{
    /// <summary>Video containers ffmpeg reads (every one a user is likely to have; the decoder is ffmpeg's, not ours), lower-case with the dot.</summary>
    public static IReadOnlyList<string> Extensions { get; } =
    [
        ".mp4", ".m4v", ".mov", ".qt", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".m2v", ".ts", ".mts", ".m2ts", ".vob",
        ".3gp", ".3g2", ".wmv", ".asf", ".flv", ".f4v", ".ogv", ".ogg", ".mxf", ".dv", ".rm", ".rmvb", ".divx", ".y4m",
    ];

    /// <summary>True for a file with a video extension.</summary>
    public static bool HasVideoExtension(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>True for an existing folder (read as a video of frame images) or a file with a video extension.</summary>
    public static bool IsVideo(string path) => Directory.Exists(path) || HasVideoExtension(path);
}

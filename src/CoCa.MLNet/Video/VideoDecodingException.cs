namespace CoCa.MLNet.Video;

/// <summary>
/// A video (file or folder of frame images) that cannot be read: empty, not a video, no video stream, no frames,
/// a decoder failure or timeout, or ffmpeg/ffprobe missing. <see cref="Path"/> names the input; the message says
/// what was expected.
/// </summary>
public sealed class VideoDecodingException : Exception
{
    public VideoDecodingException(string path, string message) : base(message) => Path = path;
    public VideoDecodingException(string path, string message, Exception inner) : base(message, inner) => Path = path;

    /// <summary>The video file or frame folder that failed.</summary>
    public string Path { get; }
}

using CoCa.MLNet.Video;

namespace CoCa.MLNet.Demo;

/// <summary>How generated videos are written: common containers/codecs of Debian's ffmpeg, or a folder of PNG frames.</summary>
public enum VideoOutputFormat
{
    /// <summary>.mp4, H.264 (libx264, yuv420p, with B-frames).</summary>
    Mp4H264,
    /// <summary>.webm, VP9 (libvpx-vp9, yuv420p).</summary>
    WebmVp9,
    /// <summary>.avi, Motion JPEG (full-range yuvj420p).</summary>
    AviMjpeg,
    /// <summary>A folder of lossless PNG frames frame_00000.png, frame_00001.png, … (a video for <see cref="VideoReader"/> too).</summary>
    PngFrames,
}

using System.Globalization;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Demo;

/// <summary>
/// Encodes RGB frames into a video with ffmpeg, piping them as rawvideo to its stdin one at a time (used to make
/// synthetic datasets and test videos).
/// </summary>
internal static class FfmpegVideoWriter
{
    /// <summary>The file extension for <paramref name="format"/> ("" for a frame folder).</summary>
    public static string Extension(VideoOutputFormat format) => format switch
    {
        VideoOutputFormat.Mp4H264 => ".mp4",
        VideoOutputFormat.WebmVp9 => ".webm",
        VideoOutputFormat.AviMjpeg => ".avi",
        VideoOutputFormat.PngFrames => "",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown video output format."),
    };

    /// <summary>
    /// Writes <paramref name="frames"/> (all the same size) to <paramref name="output"/>: a file, or for
    /// <see cref="VideoOutputFormat.PngFrames"/> a folder (created) of frame_00000.png, ….
    /// </summary>
    public static void Write(string output, IEnumerable<RgbImage> frames, double framesPerSecond, VideoOutputFormat format,
        VideoReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= VideoReaderOptions.Default;
        if (!(framesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(framesPerSecond), framesPerSecond, "The frame rate must be positive.");
        output = Path.GetFullPath(output);

        using var enumerator = frames.GetEnumerator();
        if (!enumerator.MoveNext()) throw new ArgumentException($"No frames to write to '{output}'.", nameof(frames));
        var first = enumerator.Current;
        int width = first.Width, height = first.Height;
        if (format is VideoOutputFormat.Mp4H264 or VideoOutputFormat.WebmVp9 && (width % 2 != 0 || height % 2 != 0))
            throw new ArgumentException($"{format} stores 4:2:0 chroma and needs an even frame size, got {width}x{height} for '{output}'.", nameof(frames));

        string target;
        if (format == VideoOutputFormat.PngFrames)
        {
            Directory.CreateDirectory(output);
            // The image2 muxer reads '%' as a pattern character: escape it in the folder name.
            target = Path.Combine(FfmpegInput.Url(output).Replace("%", "%%"), "frame_%05d.png");
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            target = FfmpegInput.Url(output);
        }

        List<string> arguments =
        [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", $"{width}x{height}", "-r", framesPerSecond.ToString("R", CultureInfo.InvariantCulture),
            "-i", "pipe:0",
            .. CodecArguments(format),
            target,
        ];

        using var process = FfmpegProcess.Start(options.FfmpegPath, arguments, output, options.Timeout, cancellationToken, redirectStandardInput: true);
        int count = 0;
        try
        {
            var stdin = process.StandardInput;
            var frame = first;
            while (true)
            {
                if (frame.Width != width || frame.Height != height)
                    throw new ArgumentException($"Frame {count} is {frame.Width}x{frame.Height}, but '{output}' is {width}x{height}: all frames of a video must have one size.", nameof(frames));
                stdin.Write(frame.Pixels);
                count++;
                if (!enumerator.MoveNext()) break;
                frame = enumerator.Current;
            }
            stdin.Close();
        }
        catch (IOException e)
        {
            // ffmpeg died early (broken pipe): its exit code and stderr say why.
            process.WaitForExit();
            throw new VideoDecodingException(output, $"Writing video '{output}' failed: ffmpeg stopped reading frames ({FfmpegInput.CleanError(process.StderrTail, output)}).", e);
        }

        int exitCode = process.WaitForExit();
        if (exitCode != 0)
            throw new VideoDecodingException(output,
                $"Writing video '{output}' ({format}, {count} frames of {width}x{height}) failed: ffmpeg exited with code {exitCode} ({FfmpegInput.CleanError(process.StderrTail, output)}).");
    }

    private static string[] CodecArguments(VideoOutputFormat format) => format switch
    {
        VideoOutputFormat.Mp4H264 => ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"],
        VideoOutputFormat.WebmVp9 => ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-crf", "16", "-b:v", "0", "-pix_fmt", "yuv420p", "-f", "webm"],
        VideoOutputFormat.AviMjpeg => ["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p", "-f", "avi"],
        VideoOutputFormat.PngFrames => ["-c:v", "png", "-pix_fmt", "rgb24", "-start_number", "0", "-f", "image2"],
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown video output format."),
    };
}

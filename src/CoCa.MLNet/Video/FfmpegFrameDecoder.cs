using System.Globalization;
using System.Text;
using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>
/// Decodes chosen frames of a video file in one streamed ffmpeg run: the <c>select</c> filter keeps only frames whose
/// number <c>n</c> (0-based, in display order, as the decoder outputs them) is wanted, only those are converted to
/// RGB, and ffmpeg stops after the last one (<c>-frames:v</c>). Frames arrive one by one as PPM on stdout; the video is never held in memory.
/// </summary>
internal static class FfmpegFrameDecoder
{
    /// <summary>
    /// Yields the frames at <paramref name="distinctSortedIndices"/> in order. Yields fewer when the stream has fewer
    /// frames than the largest index (the caller decides what that means). Enumerate to the end or dispose: either way
    /// ffmpeg is stopped and reaped.
    /// </summary>
    public static IEnumerable<RgbImage> DecodeFrames(VideoInfo video, IReadOnlyList<int> distinctSortedIndices,
        VideoReaderOptions options, CancellationToken cancellationToken)
    {
        if (distinctSortedIndices.Count == 0) yield break;
        using var process = FfmpegProcess.Start(options.FfmpegPath, Arguments(video, distinctSortedIndices), video.Path, options.Timeout, cancellationToken);
        var reader = new PpmFrameStreamReader(process.StandardOutput, video.Path);
        while (true)
        {
            RgbImage? frame;
            try
            {
                frame = reader.ReadFrame();
            }
            catch (Exception e) when (e is IOException or VideoDecodingException)
            {
                process.ThrowIfStopped(); // a read torn by the timeout or a cancellation reports that instead
                throw;
            }
            if (frame is null) break;
            yield return frame;
        }

        int exitCode = process.WaitForExit();
        if (exitCode != 0)
            throw new VideoDecodingException(video.Path,
                $"Decoding video '{video.Path}' failed: ffmpeg exited with code {exitCode} ({FfmpegInput.CleanError(process.StderrTail, video.Path)}).");
    }

    internal static List<string> Arguments(VideoInfo video, IReadOnlyList<int> distinctSortedIndices)
    {
        var select = new StringBuilder("select='");
        for (int i = 0; i < distinctSortedIndices.Count; i++)
        {
            if (i > 0) select.Append('+');
            select.Append("eq(n,").Append(distinctSortedIndices[i].ToString(CultureInfo.InvariantCulture)).Append(')');
        }
        select.Append('\'');

        return
        [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-i", FfmpegInput.Url(video.Path),
            "-map", "0:" + video.StreamIndex.ToString(CultureInfo.InvariantCulture),
            "-vf", select.ToString(),
            // Keep every selected frame exactly once: no frame-rate driven duplication or dropping at the output.
            "-fps_mode", "passthrough",
            "-frames:v", distinctSortedIndices.Count.ToString(CultureInfo.InvariantCulture),
            // YUV → RGB with interpolated chroma and exact rounding (swscale's fast path takes the nearest chroma sample).
            "-sws_flags", "bicubic+accurate_rnd+full_chroma_int",
            "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1",
        ];
    }
}

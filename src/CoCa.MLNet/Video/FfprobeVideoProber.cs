using System.Globalization;
using System.Text.Json;

namespace CoCa.MLNet.Video;

/// <summary>
/// Probes a video file with ffprobe's JSON output: the first real video stream (cover art in audio files does not
/// count), its displayed size, duration, frame rate and frame count. The frame count comes from the cheapest source
/// that has it: the container's <c>nb_frames</c>, else counted packets (<c>-count_packets</c>: demux only, fast),
/// else duration × frame rate.
/// </summary>
internal static class FfprobeVideoProber
{
    private const string Expected = "Expected a video file that ffmpeg reads (e.g. mp4/h264, webm/vp9, avi/mjpeg) or a folder of frame images.";

    public static VideoInfo Probe(string path, VideoReaderOptions options, CancellationToken cancellationToken)
    {
        using var json = RunFfprobe(path, options, cancellationToken, "-show_format", "-show_streams");
        var root = json.RootElement;

        string? container = root.TryGetProperty("format", out var format) ? GetString(format, "format_name") : null;
        // ffmpeg's "tty" demuxer shows any text file as an ANSI-art video; nobody means that.
        if (container == "tty")
            throw new VideoDecodingException(path, $"Cannot read video '{path}': it is a text file, not a video. {Expected}");

        var streams = root.TryGetProperty("streams", out var s) && s.ValueKind == JsonValueKind.Array ? s.EnumerateArray().ToList() : [];
        var video = streams.FirstOrDefault(IsVideoStream);
        if (video.ValueKind != JsonValueKind.Object)
        {
            string found = streams.Count == 0 ? "no streams at all"
                : "only " + string.Join(", ", streams.Select(x => $"{GetString(x, "codec_type") ?? "unknown"} ({GetString(x, "codec_name") ?? "?"})"));
            throw new VideoDecodingException(path, $"Cannot read video '{path}': it has no video stream ({found}). {Expected}");
        }

        int streamIndex = video.GetProperty("index").GetInt32();
        int width = GetInt(video, "width") ?? 0, height = GetInt(video, "height") ?? 0;
        if (width <= 0 || height <= 0)
            throw new VideoDecodingException(path, $"Cannot read video '{path}': its video stream {streamIndex} has no frame size (width {width}, height {height}). {Expected}");
        int rotation = Rotation(video);
        if (Math.Abs(rotation) % 180 == 90) (width, height) = (height, width);

        double? durationSeconds = ParseDouble(GetString(video, "duration")) ?? (format.ValueKind == JsonValueKind.Object ? ParseDouble(GetString(format, "duration")) : null);
        double? frameRate = ParseRate(GetString(video, "avg_frame_rate")) ?? ParseRate(GetString(video, "r_frame_rate"));

        var (frameCount, countSource) = CountFrames(path, streamIndex, video, durationSeconds, frameRate, options, cancellationToken);
        if (frameCount <= 0)
            throw new VideoDecodingException(path, $"Cannot read video '{path}': its video stream {streamIndex} contains no frames. {Expected}");

        return new VideoInfo
        {
            Path = path,
            Kind = VideoSourceKind.File,
            FrameCount = frameCount,
            FrameCountSource = countSource,
            Width = width,
            Height = height,
            Duration = durationSeconds is double d && d > 0 ? TimeSpan.FromSeconds(d) : null,
            FrameRate = frameRate,
            CodecName = GetString(video, "codec_name"),
            ContainerFormat = container,
            StreamIndex = streamIndex,
            Rotation = rotation,
        };
    }

    /// <summary>Decodes the whole stream to count its frames exactly (slow: a full decode).</summary>
    public static int CountDecodedFrames(VideoInfo video, VideoReaderOptions options, CancellationToken cancellationToken)
    {
        using var json = RunFfprobe(video.Path, options, cancellationToken,
            "-count_frames", "-select_streams", video.StreamIndex.ToString(CultureInfo.InvariantCulture), "-show_entries", "stream=nb_read_frames");
        return FirstStreamInt(json, "nb_read_frames") ?? 0;
    }

    /// <summary>The packets of the video's stream in the file (demux only, fast): fewer than the container announces when the file was cut short.</summary>
    public static int? CountPackets(VideoInfo video, VideoReaderOptions options, CancellationToken cancellationToken) =>
        CountPackets(video.Path, video.StreamIndex, options, cancellationToken);

    private static int? CountPackets(string path, int streamIndex, VideoReaderOptions options, CancellationToken cancellationToken)
    {
        using var json = RunFfprobe(path, options, cancellationToken,
            "-count_packets", "-select_streams", streamIndex.ToString(CultureInfo.InvariantCulture), "-show_entries", "stream=nb_read_packets");
        return FirstStreamInt(json, "nb_read_packets");
    }

    private static (int Count, FrameCountSource Source) CountFrames(string path, int streamIndex, JsonElement video,
        double? durationSeconds, double? frameRate, VideoReaderOptions options, CancellationToken cancellationToken)
    {
        if (ParseInt(GetString(video, "nb_frames")) is int n && n > 0) return (n, FrameCountSource.ContainerHeader);

        if (CountPackets(path, streamIndex, options, cancellationToken) is int packets && packets > 0) return (packets, FrameCountSource.CountedPackets);

        if (durationSeconds is double d && frameRate is double r && d > 0 && r > 0)
            return ((int)Math.Round(d * r), FrameCountSource.DurationTimesFrameRate);
        return (0, FrameCountSource.CountedPackets);
    }

    private static JsonDocument RunFfprobe(string path, VideoReaderOptions options, CancellationToken cancellationToken, params string[] query)
    {
        string[] arguments = ["-v", "error", "-print_format", "json", .. query, FfmpegInput.Url(path)];
        using var process = FfmpegProcess.Start(options.FfprobePath, arguments, path, options.Timeout, cancellationToken);
        string output;
        using (var reader = new StreamReader(process.StandardOutput))
            output = reader.ReadToEnd();
        int exitCode = process.WaitForExit();
        if (exitCode != 0)
            throw new VideoDecodingException(path,
                $"Cannot read video '{path}': ffprobe could not open it as a media file ({FfmpegInput.CleanError(process.StderrTail, path)}). {Expected}");
        try
        {
            return JsonDocument.Parse(output);
        }
        catch (JsonException e)
        {
            throw new VideoDecodingException(path, $"Cannot read video '{path}': ffprobe's output is not JSON ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
        }
    }

    private static bool IsVideoStream(JsonElement stream) =>
        GetString(stream, "codec_type") == "video"
        && !(stream.TryGetProperty("disposition", out var d) && GetInt(d, "attached_pic") == 1);

    // Display-matrix rotation (ffprobe ≥ 5 reports it in side_data_list; older files/tools in tags.rotate).
    private static int Rotation(JsonElement video)
    {
        if (video.TryGetProperty("side_data_list", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var item in list.EnumerateArray())
                if (item.TryGetProperty("rotation", out var r) && r.ValueKind == JsonValueKind.Number)
                    return (int)Math.Round(r.GetDouble());
        if (video.TryGetProperty("tags", out var tags) && ParseInt(GetString(tags, "rotate")) is int rotate) return rotate;
        return 0;
    }

    private static int? FirstStreamInt(JsonDocument json, string name) =>
        json.RootElement.TryGetProperty("streams", out var s) && s.ValueKind == JsonValueKind.Array && s.GetArrayLength() > 0
            ? ParseInt(GetString(s[0], name)) : null;

    private static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Number => v.GetRawText(),
                _ => null,
            }
            : null;

    private static int? GetInt(JsonElement element, string name) => ParseInt(GetString(element, name));

    private static int? ParseInt(string? text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static double? ParseDouble(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;

    // "30000/1001" → 29.97; "0/0" → null.
    private static double? ParseRate(string? text)
    {
        if (text is null) return null;
        int slash = text.IndexOf('/');
        if (slash < 0) return ParseDouble(text) is double r && r > 0 ? r : null;
        return ParseDouble(text[..slash]) is double num && ParseDouble(text[(slash + 1)..]) is double den && num > 0 && den > 0 ? num / den : null;
    }
}

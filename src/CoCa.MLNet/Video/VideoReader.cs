using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>
/// Reads videos as the F frames CoCa looks at: probes a video file with ffprobe (or lists a folder of frame images),
/// picks F source frames uniformly over the whole video (<see cref="VideoFrameSampler"/>) and decodes just those,
/// streamed through one ffmpeg process — never the whole video in memory.
/// </summary>
/// <remarks>
/// Short videos repeat frames uniformly; the result always has F frames. Needs Debian's <c>ffmpeg</c> package
/// (ffmpeg and ffprobe) for video files; frame folders need no ffmpeg. Thread-safe: each call runs its own processes.
/// Errors name the file: <see cref="FileNotFoundException"/> when it does not exist, <see cref="VideoDecodingException"/>
/// when it is empty, cut short, not a video, has no video stream or no frames, fails to decode, times out, or ffmpeg is
/// missing.
/// </remarks>
public sealed class VideoReader
{
    public VideoReader(VideoReaderOptions? options = null)
    {
        Options = options ?? VideoReaderOptions.Default;
        if (Options.Timeout <= TimeSpan.Zero && Options.Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(options), Options.Timeout, "VideoReaderOptions.Timeout must be positive or Timeout.InfiniteTimeSpan.");
    }

    public VideoReaderOptions Options { get; }

    /// <summary>What the video is: size, frame count (and how it was counted), duration, codec.</summary>
    public VideoInfo Probe(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath)) return ImageFolderVideo.Probe(fullPath, Options);
        var file = new FileInfo(fullPath);
        if (!file.Exists)
            throw new FileNotFoundException($"Video '{fullPath}' does not exist: expected a video file or a folder of frame images.", fullPath);
        if (file.Length == 0)
            throw new VideoDecodingException(fullPath, $"Cannot read video '{fullPath}': the file is empty (0 bytes); expected a video file.");
        // ffmpeg reads a still image as a video of one frame, which would pass as a video of one repeated frame; GIF and
        // WebP may be animated, so they stay videos when given as one.
        if (ImageFiles.HasImageExtension(fullPath) && Path.GetExtension(fullPath).ToLowerInvariant() is not (".gif" or ".webp"))
            throw new VideoDecodingException(fullPath, $"Cannot read video '{fullPath}': it is an image file; expected a video file ({string.Join(" ", VideoFiles.Extensions.Take(6))} ...) " +
                "or a folder of frame images (put the frames of one video in a folder of their own).");
        return FfprobeVideoProber.Probe(fullPath, Options, cancellationToken);
    }

    /// <summary>Probes <paramref name="path"/> and returns <paramref name="frameCount"/> uniformly sampled frames.</summary>
    public SampledFrames SampleFrames(string path, int frameCount = VideoFrameSampler.DefaultFrameCount, CancellationToken cancellationToken = default)
    {
        ValidateFrameCount(frameCount);
        return SampleFrames(Probe(path, cancellationToken), frameCount, cancellationToken);
    }

    /// <summary>
    /// Returns <paramref name="frameCount"/> frames sampled uniformly over an already probed video. When the decoder
    /// delivers fewer frames than the container announced (e.g. an mp4 cut with <c>-c copy</c>, whose edit list hides
    /// frames), the frames are counted by decoding and the sampling is redone over the true count; the returned
    /// <see cref="SampledFrames.Video"/> then says <see cref="FrameCountSource.DecodedFrames"/>. A file cut short (fewer
    /// packets than its header announces frames) is refused with a <see cref="VideoDecodingException"/> instead.
    /// </summary>
    public SampledFrames SampleFrames(VideoInfo video, int frameCount = VideoFrameSampler.DefaultFrameCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(video);
        ValidateFrameCount(frameCount);
        if (video.Kind == VideoSourceKind.ImageFolder) return SampleFolder(video, frameCount, cancellationToken);

        SampledFrames? sampled;
        try
        {
            sampled = TrySampleFile(video, frameCount, cancellationToken);
        }
        catch (VideoDecodingException e) when (CutShort(video, cancellationToken) is { } message)
        {
            throw new VideoDecodingException(video.Path, message, e);   // ffmpeg's words for it are a page of decoder errors
        }
        if (sampled is not null) return sampled;
        if (CutShort(video, cancellationToken) is { } cutShort) throw new VideoDecodingException(video.Path, cutShort);

        int decodedCount = FfprobeVideoProber.CountDecodedFrames(video, Options, cancellationToken);
        if (decodedCount <= 0)
            throw new VideoDecodingException(video.Path, $"Cannot read video '{video.Path}': none of its {video.FrameCount} announced frames could be decoded.");
        var recounted = video with { FrameCount = decodedCount, FrameCountSource = FrameCountSource.DecodedFrames };
        return TrySampleFile(recounted, frameCount, cancellationToken)
            ?? throw new VideoDecodingException(video.Path,
                $"Cannot read video '{video.Path}': ffmpeg counted {decodedCount} frames but did not deliver all sampled ones on a second decode.");
    }

    /// <summary>
    /// Why the video is refused when the file was cut short (an interrupted download or copy: fewer packets than the
    /// header announces frames), else null. Sampled over what decodes, its first part would silently stand for the whole
    /// video; an edit list that hides frames (a cut made with <c>-c copy</c>) keeps every packet and is not refused.
    /// </summary>
    private string? CutShort(VideoInfo video, CancellationToken cancellationToken) =>
        video.FrameCountSource == FrameCountSource.ContainerHeader
        && FfprobeVideoProber.CountPackets(video, Options, cancellationToken) is int packets && packets < video.FrameCount
            ? $"Cannot read video '{video.Path}': the file is cut short: its header announces {video.FrameCount} frames but it holds {packets} (an interrupted download or copy?). Expected the complete video file."
            : null;

    // Null when the stream ended before the last wanted frame (the frame count was overstated).
    private SampledFrames? TrySampleFile(VideoInfo video, int frameCount, CancellationToken cancellationToken)
    {
        int[] indices = VideoFrameSampler.UniformIndices(video.FrameCount, frameCount);
        int[] distinct = indices.Distinct().ToArray(); // already sorted: the sampler's indices never decrease
        var decoded = new RgbImage[distinct.Length];
        int received = 0;
        foreach (var frame in FfmpegFrameDecoder.DecodeFrames(video, distinct, Options, cancellationToken))
            decoded[received++] = frame;
        if (received < distinct.Length) return null;
        return new SampledFrames(video, indices, Expand(indices, distinct, decoded));
    }

    private SampledFrames SampleFolder(VideoInfo video, int frameCount, CancellationToken cancellationToken)
    {
        int[] indices = VideoFrameSampler.UniformIndices(video.FrameCount, frameCount);
        int[] distinct = indices.Distinct().ToArray();
        var decoded = new RgbImage[distinct.Length];
        for (int i = 0; i < distinct.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            decoded[i] = ImageFolderVideo.DecodeFrame(video, distinct[i], Options);
        }
        return new SampledFrames(video, indices, Expand(indices, distinct, decoded));
    }

    // Repeated indices (short videos) share the one decoded image.
    private static RgbImage[] Expand(int[] indices, int[] distinct, RgbImage[] decoded)
    {
        var frames = new RgbImage[indices.Length];
        for (int i = 0, d = 0; i < indices.Length; i++)
        {
            while (distinct[d] != indices[i]) d++;
            frames[i] = decoded[d];
        }
        return frames;
    }

    private static void ValidateFrameCount(int frameCount)
    {
        if (frameCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "The number of frames to sample per video must be positive.");
    }
}

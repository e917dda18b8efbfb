using CoCa.MLNet.Runtime;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Videos → CoCa features, outside ML.NET: F frames sampled uniformly per video (ffmpeg, streamed), all frames of a
/// group of videos through the image encoder in batches of frames, then per video the tokens [F, T, D] and the mean
/// frame embedding [E]. A frame's features equal the image featurizer's for the same decoded frame.
/// </summary>
public sealed class CoCaVideoFeatureExtractor
{
    private readonly CoCaImageFeatureExtractor _images;
    private readonly VideoReader _reader;

    public CoCaVideoFeatureExtractor(CoCaImageFeatureExtractor images, int frameCount = VideoFrameSampler.DefaultFrameCount,
        int frameBatchSize = 32, VideoReaderOptions? readerOptions = null)
    {
        if (frameCount < 1) throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "At least one frame per video.");
        if (frameBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(frameBatchSize), frameBatchSize, "At least one frame per batch.");
        _images = images;
        _reader = new VideoReader(readerOptions);
        FrameCount = frameCount;
        FrameBatchSize = frameBatchSize;
    }

    public int FrameCount { get; }
    public int FrameBatchSize { get; }

    /// <summary>Threads for decoding and preprocessing that overlaps the encoder (see <see cref="CoCaVisionEncoder.OverlappingThreads"/>).</summary>
    internal int OverlappingThreads => _images.Encoder.OverlappingThreads;

    /// <summary>Videos per group: whole videos fill one frame batch.</summary>
    public int VideosPerBatch => Math.Max(1, FrameBatchSize / FrameCount);

    /// <summary>Samples the frames of one video (exactly <see cref="FrameCount"/>).</summary>
    public SampledFrames Sample(string path) => _reader.SampleFrames(path, FrameCount);

    /// <summary>
    /// Features of <paramref name="videoPaths"/>: tokens [n, F, T, D] and embeddings [n, E] (mean over frames),
    /// each only when asked for.
    /// </summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<string> videoPaths, bool tokens, bool embeddings) =>
        Encode(Prepare(videoPaths, CpuBudget.AvailableCores), tokens, embeddings);

    /// <summary>Features of already sampled videos.</summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<SampledFrames> videos, bool tokens, bool embeddings) =>
        Encode(Prepare(videos, CpuBudget.AvailableCores), tokens, embeddings);

    /// <summary>
    /// Features of many groups of videos, pipelined: ffmpeg decodes and the frames of the next group are preprocessed
    /// while ONNX Runtime encodes this group. Results come in the order of the groups; at most three groups of
    /// frames are held at once.
    /// </summary>
    public IEnumerable<(float[]? Tokens, float[]? Embeddings)> ExtractBatches(IEnumerable<IReadOnlyList<string>> groups, bool tokens, bool embeddings) =>
        Prefetch.Ahead(groups.Select(g => Prepare(g, OverlappingThreads)))
            .Select(p => Encode(p, tokens, embeddings));

    /// <summary>
    /// Like <see cref="ExtractBatches"/>, but a video that cannot be read (corrupt, missing, an empty frame folder) does
    /// not end the run: its group is encoded without it, and <see cref="ReadableBatch.Unreadable"/> says why.
    /// </summary>
    internal IEnumerable<ReadableBatch> ExtractReadableBatches(IEnumerable<IReadOnlyList<string>> groups, bool tokens, bool embeddings) =>
        Prefetch.Ahead(groups.Select(g => PrepareReadable(g, OverlappingThreads)))
            .Select(p =>
            {
                var (t, e) = Encode(p.Videos, tokens, embeddings);
                return new ReadableBatch(p.Kept, p.Unreadable, t, e);
            });

    private (PreparedVideos Videos, int[] Kept, IReadOnlyList<UnreadableInput> Unreadable) PrepareReadable(IReadOnlyList<string> videoPaths, int threads)
    {
        var sampled = new SampledFrames?[videoPaths.Count];
        var errors = new Exception?[videoPaths.Count];
        Parallel.For(0, videoPaths.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(threads, 1, 2) }, i =>
        {
            try { sampled[i] = Sample(videoPaths[i]); }
            catch (Exception e) when (Transforms.InputErrors.IsBadInput(e)) { errors[i] = e; }
        });
        var kept = Enumerable.Range(0, videoPaths.Count).Where(i => errors[i] is null).ToArray();
        var unreadable = Enumerable.Range(0, videoPaths.Count).Where(i => errors[i] is not null)
            .Select(i => new UnreadableInput(i, Transforms.InputErrors.Unwrap(errors[i]!).Message.ReplaceLineEndings(" "))).ToList();
        return (Prepare(kept.Select(i => sampled[i]!).ToList(), threads), kept, unreadable);
    }

    /// <summary>Samples (ffmpeg) and preprocesses the frames of a group of videos: the CPU half of <see cref="Extract(IReadOnlyList{string}, bool, bool)"/>.</summary>
    internal PreparedVideos Prepare(IReadOnlyList<string> videoPaths, int threads)
    {
        var sampled = new SampledFrames[videoPaths.Count];
        // Each video is its own ffmpeg process; two at a time keep the decoder busy without starving the encoder.
        Parallel.For(0, videoPaths.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(threads, 1, 2) }, i => sampled[i] = Sample(videoPaths[i]));
        return Prepare(sampled, threads);
    }

    private PreparedVideos Prepare(IReadOnlyList<SampledFrames> videos, int threads) =>
        new(_images.Preprocess(videos.SelectMany(v => v.Frames).Cast<object>().ToList(), threads), videos.Select(v => v.Frames.Length).ToArray());

    /// <summary>Encodes prepared frames in batches of <see cref="FrameBatchSize"/>; per video the tokens and the mean frame embedding.</summary>
    internal (float[]? Tokens, float[]? Embeddings) Encode(PreparedVideos videos, bool tokens, bool embeddings)
    {
        var enc = _images.Encoder;
        int frameCount = videos.Frames.Count, per = enc.PixelsPerImage;
        int tokenLen = enc.TokenCount * enc.Width, embDim = enc.EmbedDim;
        float[]? allTokens = tokens ? new float[frameCount * tokenLen] : null;
        float[]? frameEmb = embeddings ? new float[frameCount * embDim] : null;
        for (int start = 0; start < frameCount; start += FrameBatchSize)
        {
            int n = Math.Min(FrameBatchSize, frameCount - start);
            var (t, e) = enc.Run(videos.Frames.Pixels.AsMemory(start * per, n * per), n, tokens, embeddings);
            t?.CopyTo(allTokens!, start * tokenLen);
            e?.CopyTo(frameEmb!, start * embDim);
        }
        float[]? videoEmb = null;
        if (embeddings)
        {
            videoEmb = new float[videos.FramesPerVideo.Length * embDim];
            int frame = 0;
            for (int v = 0; v < videos.FramesPerVideo.Length; v++)
            {
                int n = videos.FramesPerVideo[v];
                var sum = new double[embDim];
                for (int f = 0; f < n; f++, frame++)
                    for (int d = 0; d < embDim; d++) sum[d] += frameEmb![frame * embDim + d];
                for (int d = 0; d < embDim; d++) videoEmb[v * embDim + d] = (float)(sum[d] / n);
            }
        }
        return (allTokens, videoEmb);
    }
}

/// <summary>The preprocessed frames of a group of videos, back to back, and how many belong to each video.</summary>
internal sealed record PreparedVideos(PreparedImages Frames, int[] FramesPerVideo);

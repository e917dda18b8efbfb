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

    /// <summary>Videos per group: whole videos fill one frame batch.</summary>
    public int VideosPerBatch => Math.Max(1, FrameBatchSize / FrameCount);

    /// <summary>Samples the frames of one video (exactly <see cref="FrameCount"/>).</summary>
    public SampledFrames Sample(string path) => _reader.SampleFrames(path, FrameCount);

    /// <summary>
    /// Features of <paramref name="videoPaths"/>: tokens [n, F, T, D] and embeddings [n, E] (mean over frames),
    /// each only when asked for.
    /// </summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<string> videoPaths, bool tokens, bool embeddings)
    {
        var sampled = new SampledFrames[videoPaths.Count];
        // Each video is its own ffmpeg process; two at a time keep the decoder busy without starving the encoder.
        Parallel.For(0, videoPaths.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => sampled[i] = Sample(videoPaths[i]));
        return Extract(sampled, tokens, embeddings);
    }

    /// <summary>Features of already sampled videos.</summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<SampledFrames> videos, bool tokens, bool embeddings)
    {
        var frames = videos.SelectMany(v => v.Frames).ToList();
        var enc = _images.Encoder;
        int tokenLen = enc.TokenCount * enc.Width, embDim = enc.EmbedDim;
        float[]? allTokens = tokens ? new float[frames.Count * tokenLen] : null;
        float[]? frameEmb = embeddings ? new float[frames.Count * embDim] : null;
        for (int start = 0; start < frames.Count; start += FrameBatchSize)
        {
            var chunk = frames.GetRange(start, Math.Min(FrameBatchSize, frames.Count - start));
            var (t, e) = _images.Extract(chunk, tokens, embeddings);
            t?.CopyTo(allTokens!, start * tokenLen);
            e?.CopyTo(frameEmb!, start * embDim);
        }
        float[]? videoEmb = null;
        if (embeddings)
        {
            videoEmb = new float[videos.Count * embDim];
            int frame = 0;
            for (int v = 0; v < videos.Count; v++)
            {
                int n = videos[v].Frames.Length;
                var sum = new double[embDim];
                for (int f = 0; f < n; f++, frame++)
                    for (int d = 0; d < embDim; d++) sum[d] += frameEmb![frame * embDim + d];
                for (int d = 0; d < embDim; d++) videoEmb[v * embDim + d] = (float)(sum[d] / n);
            }
        }
        return (allTokens, videoEmb);
    }
}

namespace CoCa.MLNet.Video;

/// <summary>
/// Which source frames a video contributes: <c>F</c> indices spread uniformly over the whole video, the centre of each
/// of <c>F</c> equal segments: <c>index_i = floor((i + 0.5) · N / F)</c>, i = 0 … F−1, for N source frames.
/// </summary>
/// <remarks>
/// Short videos repeat frames uniformly; the result always has F frames. For N ≥ F the indices are distinct and
/// increasing; for N &lt; F the same formula repeats each source frame ⌊F/N⌋ or ⌈F/N⌉ times, in order (e.g. N = 3,
/// F = 8 → 0 0 0 1 1 2 2 2), so every video yields a [F, …] block whatever its length.
/// </remarks>
internal static class VideoFrameSampler
{
    /// <summary>The number of frames CoCa samples per video by default (open_clip/CoCa zero-shot video: 16).</summary>
    public const int DefaultFrameCount = 16;

    /// <summary>The <paramref name="frameCount"/> source indices (non-decreasing, in [0, N)) to take from a video of <paramref name="sourceFrameCount"/> frames.</summary>
    public static int[] UniformIndices(int sourceFrameCount, int frameCount = DefaultFrameCount)
    {
        if (sourceFrameCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(sourceFrameCount), sourceFrameCount, "A video needs at least one frame to sample from.");
        if (frameCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "The number of frames to sample must be positive.");
        var indices = new int[frameCount];
        for (int i = 0; i < frameCount; i++)
        {
            // Integer form of floor((i + 0.5) * N / F) = floor((2i + 1) * N / 2F): exact, no floating-point ties.
            indices[i] = (int)((2L * i + 1) * sourceFrameCount / (2L * frameCount));
        }
        return indices;
    }
}

using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>
/// The frames sampled from one video: always exactly the requested count F. <c>Frames[i]</c> is source frame
/// <c>SourceIndices[i]</c>. A source frame taken more than once (short videos) appears as the same
/// <see cref="RgbImage"/> instance at each of its positions — treat frames as read-only.
/// </summary>
public sealed record SampledFrames(VideoInfo Video, int[] SourceIndices, RgbImage[] Frames)
{
    /// <summary>F, the number of sampled frames.</summary>
    public int Count => Frames.Length;
}

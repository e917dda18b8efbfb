using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Video;

public class VideoFrameSamplerTests
{
    [Fact]
    public void TakesTheCentreOfEachOfFEqualSegments()
    {
        // floor((i + 0.5) * 40 / 16) = floor(2.5 i + 1.25)
        Assert.Equal([1, 3, 6, 8, 11, 13, 16, 18, 21, 23, 26, 28, 31, 33, 36, 38], VideoFrameSampler.UniformIndices(40, 16));
        Assert.Equal([50, 150, 250, 350], VideoFrameSampler.UniformIndices(400, 4));
        Assert.Equal([0], VideoFrameSampler.UniformIndices(1, 1));
        Assert.Equal([3], VideoFrameSampler.UniformIndices(7, 1)); // the middle frame
    }

    [Fact]
    public void TakesEveryFrameWhenTheVideoHasExactlyF()
    {
        Assert.Equal(Enumerable.Range(0, 16), VideoFrameSampler.UniformIndices(16, 16));
    }

    [Fact]
    public void ShortVideosRepeatFramesUniformlyAndInOrder()
    {
        Assert.Equal([0, 0, 0, 1, 1, 2, 2, 2], VideoFrameSampler.UniformIndices(3, 8));
        Assert.Equal(Enumerable.Repeat(0, 16), VideoFrameSampler.UniformIndices(1, 16));

        for (int n = 1; n < 16; n++)
        {
            var indices = VideoFrameSampler.UniformIndices(n, 16);
            Assert.Equal(16, indices.Length);
            Assert.Equal(Enumerable.Range(0, n), indices.Distinct()); // every frame used, in order
            var repeats = indices.GroupBy(i => i).Select(g => g.Count()).ToArray();
            Assert.True(repeats.Max() - repeats.Min() <= 1, $"N={n}: repeats {string.Join(",", repeats)} are not uniform");
        }
    }

    [Fact]
    public void IndicesAreDistinctIncreasingAndInRangeForLongVideos()
    {
        foreach (int n in new[] { 16, 17, 31, 100, 1001, 216_000 })
        {
            var indices = VideoFrameSampler.UniformIndices(n, 16);
            for (int i = 1; i < indices.Length; i++) Assert.True(indices[i] > indices[i - 1]);
            Assert.InRange(indices[0], 0, n / 16);
            Assert.InRange(indices[^1], n - 1 - n / 16, n - 1);
            // symmetric about the middle: first and last are equally far from the ends (±1 for rounding)
            Assert.InRange(indices[0] - (n - 1 - indices[^1]), -1, 1);
        }
    }

    [Fact]
    public void RejectsEmptyVideosAndNonPositiveCounts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoFrameSampler.UniformIndices(0, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoFrameSampler.UniformIndices(10, 0));
    }
}

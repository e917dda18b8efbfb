using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>
/// Pillow's resampling on tiny images, checked against values worked out by hand from libImaging/Resample.c's formulas
/// (and confirmed with Pillow 9.4).
/// </summary>
public class PilResizeTests
{
    // One row, 4 pixels: R = 10, 200, 30, 250; G and B are opposite step edges.
    private static readonly byte[] Row4 = [10, 0, 255, 200, 0, 255, 30, 255, 0, 250, 255, 0];
    private static readonly byte[] Row2 = [10, 0, 255, 200, 255, 0];

    [Fact]
    public void BicubicDownscaleFourToTwoWeightsMatchPillowsFormulas()
    {
        // scale = 2 → support = 2·2 = 4, kernel size ceil(4)·2+1 = 9. Output 0: center = 1.0,
        // xmin = (int)(1 − 4 + 0.5) = (int)(−2.5) = −2 → 0, xmax = min((int)5.5, 4) = 4 taps.
        // Tap x is evaluated at (x − 1 + 0.5)/2 = −0.25, 0.25, 0.75, 1.25:
        //   cubic(0.25) = (1.5·0.25 − 2.5)·0.25² + 1 = 0.8671875, cubic(0.75) = 0.2265625,
        //   cubic(1.25) = (((1.25 − 5)·1.25 + 8)·1.25 − 4)·(−0.5) = −0.0703125; sum 1.890625.
        // Normalised and scaled by 2^22, rounded half away from zero: 1923834, 1923834, 502623, −155987.
        var c = ResampleCoefficients.Compute(4, 2, ResamplingFilter.Bicubic);
        Assert.Equal(9, c.KernelSize);
        Assert.Equal([0, 0], c.First);
        Assert.Equal([4, 4], c.Count);
        Assert.Equal([1923834, 1923834, 502623, -155987], c.Weights.AsSpan(0, 4).ToArray());
        Assert.Equal([-155987, 502623, 1923834, 1923834], c.Weights.AsSpan(9, 4).ToArray());
    }

    [Fact]
    public void BicubicDownscaleFourToTwoPixels()
    {
        // R of output 0: (1<<21) + 10·1923834 + 200·1923834 + 30·502623 − 250·155987 = 382184232; >> 22 = 91.
        var result = PilResize.Resize(new RgbImage(4, 1, Row4), 2, 1, ResamplingFilter.Bicubic);
        Assert.Equal(new byte[] { 91, 21, 234, 152, 234, 21 }, result.Pixels);
    }

    [Fact]
    public void BicubicUpscaleTwoToFiveClipsTheOvershoot()
    {
        // scale 0.4 → no antialiasing (filter scale 1), support 2. Output 0: center 0.2, taps at 0.3 and 1.3:
        // cubic(0.3) = 0.8155, cubic(1.3) = −0.0735 → normalised 1.0990566, −0.0990566 → 4609778, −415474.
        // R: (1<<21) + 10·4609778 − 200·415474 = −34899868; >> 22 = −9 → clipped to 0.
        var c = ResampleCoefficients.Compute(2, 5, ResamplingFilter.Bicubic);
        Assert.Equal(5, c.KernelSize);
        Assert.Equal([4609778, -415474], c.Weights.AsSpan(0, 2).ToArray());
        Assert.Equal([2097152, 2097152], c.Weights.AsSpan(10, 2).ToArray());

        var result = PilResize.Resize(new RgbImage(2, 1, Row2), 5, 1, ResamplingFilter.Bicubic);
        Assert.Equal(new byte[] { 0, 0, 255, 22, 17, 238, 105, 128, 128, 188, 238, 17, 219, 255, 0 }, result.Pixels);
    }

    [Fact]
    public void BilinearResizesMatchPillow()
    {
        // 4→2: support 2, taps at (x − 0.5)/2 for output 0: −0.25, 0.25, 0.75 (1.25 is outside the triangle) →
        // 0.75, 0.75, 0.25 / 1.75 = 3/7, 3/7, 1/7 → 1797559, 1797559, 599186.
        var c = ResampleCoefficients.Compute(4, 2, ResamplingFilter.Bilinear);
        Assert.Equal([1797559, 1797559, 599186], c.Weights.AsSpan(0, 3).ToArray());
        Assert.Equal(new byte[] { 94, 36, 219, 149, 219, 36 }, PilResize.Resize(new RgbImage(4, 1, Row4), 2, 1, ResamplingFilter.Bilinear).Pixels);
        Assert.Equal(new byte[] { 10, 0, 255, 29, 25, 230, 105, 128, 128, 181, 230, 25, 200, 255, 0 },
            PilResize.Resize(new RgbImage(2, 1, Row2), 5, 1, ResamplingFilter.Bilinear).Pixels);
    }

    [Fact]
    public void NearestPicksTheSourcePixelUnderEachOutputCenter()
    {
        // PIL accumulates positions from half a step: 4→3 step 4/3 → 0.667, 2.0, 3.33 → 0, 2, 3.
        Assert.Equal([0, 2, 3], PilResize.NearestPositions(4, 3));
        Assert.Equal(new byte[] { 10, 0, 255, 30, 255, 0, 250, 255, 0 }, PilResize.Resize(new RgbImage(4, 1, Row4), 3, 1, ResamplingFilter.Nearest).Pixels);
        // 2→5 step 0.4 → 0.2, 0.6, 1.0, 1.4, 1.8 → 0, 0, 1, 1, 1.
        Assert.Equal([0, 0, 1, 1, 1], PilResize.NearestPositions(2, 5));
    }

    [Fact]
    public void TwoDimensionalResizeRunsHorizontalThenVertical()
    {
        // A 2x2 → 3x5 bicubic resize, values from Pillow 9.4 (the 8-bit intermediate after the horizontal pass matters).
        byte[] square = [0, 50, 100, 255, 10, 20, 30, 60, 90, 120, 240, 200];
        byte[] expected =
        [
            0, 53, 107, 133, 18, 52, 255, 0, 0,
            2, 53, 104, 125, 38, 66, 247, 23, 28,
            12, 51, 94, 102, 90, 103, 191, 130, 111,
            22, 48, 84, 78, 142, 139, 134, 236, 194,
            26, 48, 81, 70, 162, 153, 113, 255, 226,
        ];
        Assert.Equal(expected, PilResize.Resize(new RgbImage(2, 2, square), 3, 5, ResamplingFilter.Bicubic).Pixels);
    }

    [Fact]
    public void SameSizeIsAnExactCopy()
    {
        var pixels = RandomBytes(7 * 5 * 3, seed: 3);
        Assert.Equal(pixels, PilResize.Resize(new RgbImage(7, 5, pixels), 7, 5, ResamplingFilter.Bicubic).Pixels);
    }

    [Theory]
    [InlineData(640, 480, 298, 224, 3)]
    [InlineData(97, 131, 64, 86, 4)]
    [InlineData(50, 20, 50, 60, 3)]   // vertical pass only
    [InlineData(20, 50, 60, 50, 4)]   // horizontal pass only
    public void RegionEqualsTheSameCropOfTheFullResize(int width, int height, int outWidth, int outHeight, int channels)
    {
        var source = RandomBytes(width * height * channels, seed: width + height);
        var full = new byte[outWidth * outHeight * channels];
        PilResize.ResizeRegion(source, width, height, channels, outWidth, outHeight, ResamplingFilter.Bicubic, PixelRegion.Whole(outWidth, outHeight), full);
        var region = new PixelRegion(outWidth / 4, outHeight / 5, outWidth / 2, outHeight / 2);
        var part = new byte[region.Width * region.Height * channels];
        PilResize.ResizeRegion(source, width, height, channels, outWidth, outHeight, ResamplingFilter.Bicubic, region, part);
        for (int y = 0; y < region.Height; y++)
            Assert.Equal(
                full.AsSpan(((region.Y + y) * outWidth + region.X) * channels, region.Width * channels).ToArray(),
                part.AsSpan(y * region.Width * channels, region.Width * channels).ToArray());
    }

    [Fact]
    public void UnknownInterpolationNamesAreRefused()
    {
        Assert.Equal(ResamplingFilter.Bicubic, ResamplingFilters.FromOpenClipName("bicubic"));
        Assert.Equal(ResamplingFilter.Bilinear, ResamplingFilters.FromOpenClipName("bilinear"));
        Assert.Equal(ResamplingFilter.Bicubic, ResamplingFilters.FromOpenClipName("random"));
        var ex = Assert.Throws<NotSupportedException>(() => ResamplingFilters.FromOpenClipName("lanczos"));
        Assert.Contains("lanczos", ex.Message);
        Assert.Contains("bicubic", ex.Message);
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

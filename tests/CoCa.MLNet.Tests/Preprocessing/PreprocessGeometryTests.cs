using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>Resize sizes and crop/pad offsets, with torchvision 0.14's truncation and Python's round-half-to-even.</summary>
public class PreprocessGeometryTests
{
    [Theory]
    // int(64·320/240) = int(85.33) = 85; left = round(10.5) = 10 (half to even, not 11).
    [InlineData(320, 240, 64, 85, 64, 10, 0)]
    [InlineData(240, 320, 64, 64, 85, 0, 10)]
    // int(64·131/97) = int(86.43) = 86; top = round(11.0) = 11.
    [InlineData(97, 131, 64, 64, 86, 0, 11)]
    // int(224·640/480) = int(298.67) = 298 (truncated, not rounded up); left = round(37.0) = 37.
    [InlineData(640, 480, 224, 298, 224, 37, 0)]
    // int(64·7/2) = 224; left = round(80.0) = 80.  int(64·23/20) = 73 → round(4.5) = 4 (half to even).
    [InlineData(7, 2, 64, 224, 64, 80, 0)]
    [InlineData(23, 20, 64, 73, 64, 4, 0)]
    // 75 → round(5.5) = 6 (half to even rounds up here).
    [InlineData(75, 64, 64, 75, 64, 6, 0)]
    [InlineData(224, 224, 224, 224, 224, 0, 0)]
    public void ShortestResizesTheShortSideAndCropsTheCenter(int w, int h, int size, int resizedW, int resizedH, int cropX, int cropY)
    {
        var g = PreprocessGeometry.For(w, h, size, OpenClipResizeMode.Shortest);
        Assert.Equal((resizedW, resizedH), (g.ResizedWidth, g.ResizedHeight));
        Assert.Equal(new PixelRegion(cropX, cropY, size, size), g.Source);
        Assert.Equal((0, 0), (g.OffsetX, g.OffsetY));
    }

    [Fact]
    public void CropStartRoundsHalfToEven()
    {
        Assert.Equal(10, PreprocessGeometry.CropStart(85, 64));  // 10.5 → 10
        Assert.Equal(12, PreprocessGeometry.CropStart(87, 64));  // 11.5 → 12
        Assert.Equal(0, PreprocessGeometry.CropStart(65, 64));   // 0.5 → 0
        Assert.Equal(2, PreprocessGeometry.CropStart(69, 64));   // 2.5 → 2
    }

    [Fact]
    public void SquashResizesToTheSquare()
    {
        var g = PreprocessGeometry.For(640, 480, 224, OpenClipResizeMode.Squash);
        Assert.Equal((224, 224, new PixelRegion(0, 0, 224, 224)), (g.ResizedWidth, g.ResizedHeight, g.Source));
    }

    [Theory]
    // ratio = max(100/64, 200/64) = 3.125 → 200/3.125 = 64, 100/3.125 = 32; pad top (64 − 32)//2 = 16.
    [InlineData(200, 100, 64, 64, 32, 0, 16)]
    // ratio 2 → 37/2 = 18.5 → 18 (half to even); pad (64 − 18)//2 = 23 (the extra row goes to the bottom).
    [InlineData(128, 37, 64, 64, 18, 0, 23)]
    // ratio 2 → 39/2 = 19.5 → 20; pad 22.
    [InlineData(39, 128, 64, 20, 64, 22, 0)]
    public void LongestResizesTheLongSideAndPads(int w, int h, int size, int resizedW, int resizedH, int offsetX, int offsetY)
    {
        var g = PreprocessGeometry.For(w, h, size, OpenClipResizeMode.Longest);
        Assert.Equal((resizedW, resizedH), (g.ResizedWidth, g.ResizedHeight));
        Assert.Equal(new PixelRegion(0, 0, resizedW, resizedH), g.Source);
        Assert.Equal((offsetX, offsetY), (g.OffsetX, g.OffsetY));
    }

    [Fact]
    public void ResizeModeNamesParseOrFailClearly()
    {
        Assert.Equal(OpenClipResizeMode.Shortest, OpenClipResizeModes.FromOpenClipName("shortest"));
        Assert.Equal(OpenClipResizeMode.Squash, OpenClipResizeModes.FromOpenClipName("Squash"));
        Assert.Equal(OpenClipResizeMode.Longest, OpenClipResizeModes.FromOpenClipName("longest"));
        var ex = Assert.Throws<NotSupportedException>(() => OpenClipResizeModes.FromOpenClipName("fill"));
        Assert.Contains("'fill'", ex.Message);
    }
}

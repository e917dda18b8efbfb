using BitMiracle.LibTiff.Classic;
using CoCa.MLNet.Preprocessing;
using static CoCa.MLNet.Tests.Shared.TiffFiles;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>TIFF files decode to the pixels they store, in PIL's mode family, whatever their compression.</summary>
public sealed class TiffDecoderTests
{
    private static byte[] Pixels(int width, int height, int samples, int seed)
    {
        var rng = new Random(seed);
        var data = new byte[width * height * samples];
        rng.NextBytes(data);
        return data;
    }

    [Theory]
    [InlineData(Compression.NONE)]
    [InlineData(Compression.LZW)]
    [InlineData(Compression.PACKBITS)]
    [InlineData(Compression.ADOBE_DEFLATE)]
    public void Rgb8_DecodesToTheStoredPixels(Compression compression)
    {
        var pixels = Pixels(13, 7, 3, seed: 1);
        var image = ImageDecoder.DecodeKeepingMode(Write(13, 7, 3, pixels, compression, Photometric.RGB), "rgb.tif");
        Assert.Equal(PilImageMode.Rgb, image.Mode);
        Assert.Equal(pixels, image.ToRgb().Pixels);
    }

    [Fact]
    public void Rgba8WithUnassociatedAlpha_KeepsStraightAlpha()
    {
        var pixels = Pixels(9, 5, 4, seed: 2);
        var image = ImageDecoder.DecodeKeepingMode(Write(9, 5, 4, pixels, Compression.LZW, Photometric.RGB, ExtraSample.UNASSALPHA), "rgba.tif");
        Assert.Equal(PilImageMode.Rgba, image.Mode);
        Assert.Equal(pixels, image.Rgba);
    }

    [Fact]
    public void Grey8_BecomesGreyRgb()
    {
        var pixels = Pixels(6, 4, 1, seed: 3);
        var image = ImageDecoder.DecodeKeepingMode(Write(6, 4, 1, pixels, Compression.ADOBE_DEFLATE, Photometric.MINISBLACK), "grey.tif");
        Assert.Equal(PilImageMode.Rgb, image.Mode);
        Assert.Equal(pixels.SelectMany(v => new[] { v, v, v }).ToArray(), image.ToRgb().Pixels);
    }

    [Fact]
    public void TruncatedTiff_IsOneErrorNamingTheFile()
    {
        var tiff = Write(32, 32, 3, Pixels(32, 32, 3, seed: 4), Compression.NONE, Photometric.RGB, rowsPerStrip: 32);
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeKeepingMode(tiff[..(tiff.Length / 3)], "cut.tif"));
        Assert.Contains("'cut.tif'", e.Message);
        Assert.Contains("expected", e.Message);
    }
}

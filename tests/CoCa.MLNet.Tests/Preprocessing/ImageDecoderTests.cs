using CoCa.MLNet.Preprocessing;
using Microsoft.ML.Data;
using SkiaSharp;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>Decoding must give the pixels PIL's Image.open(...).convert("RGB") gives, and fail clearly on bad input.</summary>
public class ImageDecoderTests
{
    [Fact]
    public void RgbaKeepsTheColourOfFullyTransparentPixelsAsPilConvertDoes()
    {
        // Pixel 0 is invisible (alpha 0) yet stores a colour; pixel 1 is half transparent. PIL's convert("RGB") drops
        // alpha without compositing, so both colours survive unchanged (a premultiplying decoder would give black/halves).
        byte[] rgba = [200, 100, 50, 0, 90, 180, 240, 128, 1, 2, 3, 255, 255, 255, 255, 1];
        using var dir = new TestImages.TempDir();
        var path = dir.Write("alpha.png", TestImages.RgbaPng(2, 2, rgba));

        var image = ImageDecoder.DecodeKeepingMode(path);
        Assert.Equal(PilImageMode.Rgba, image.Mode);
        Assert.Equal(rgba, image.Rgba);
        Assert.Equal(new byte[] { 200, 100, 50, 90, 180, 240, 1, 2, 3, 255, 255, 255 }, ImageDecoder.Decode(path).Pixels);
    }

    [Fact]
    public void GrayscalePngIsReplicatedToRgb()
    {
        byte[] gray = [0, 17, 128, 255, 3, 250];
        using var dir = new TestImages.TempDir();
        var path = dir.Write("gray.png", TestImages.GrayPng(3, 2, gray));

        var decoded = ImageDecoder.DecodeKeepingMode(path);
        Assert.Equal(PilImageMode.Rgb, decoded.Mode); // PIL "L": resized like RGB
        var rgb = ImageDecoder.Decode(path);
        Assert.Equal((3, 2), (rgb.Width, rgb.Height));
        Assert.Equal(gray.SelectMany(v => new[] { v, v, v }).ToArray(), rgb.Pixels);
    }

    [Fact]
    public void PalettePngMapsIndicesToColoursAndReportsPaletteMode()
    {
        byte[] palette = [9, 8, 7, 255, 0, 0, 0, 255, 0];
        byte[] indices = [1, 2, 0, 2];
        // index 0 fully transparent through tRNS: PIL's P → RGB ignores transparency and keeps the palette colour.
        var png = TestImages.PalettePng(2, 2, indices, palette, transparency: [0]);

        var decoded = ImageDecoder.DecodeKeepingMode(png, "palette.png");
        Assert.Equal(PilImageMode.Palette, decoded.Mode);
        Assert.Equal(((byte)9, (byte)8, (byte)7), decoded.FillColor);
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0, 9, 8, 7, 0, 255, 0 }, decoded.ToRgb().Pixels);
    }

    [Fact]
    public void GifTransparentPixelsGetTheirPaletteColourAsInPil()
    {
        var palette = new byte[768];
        byte[] colours = [10, 20, 30, 40, 50, 60, 70, 80, 90, 11, 22, 33];
        colours.CopyTo(palette, 0);
        byte[] indices = [0, 3, 1, 3, 2, 0];
        var gif = TestImages.Gif(3, 2, indices, palette, transparentIndex: 3);

        var decoded = ImageDecoder.DecodeKeepingMode(gif, "t.gif");
        Assert.Equal(PilImageMode.Palette, decoded.Mode);
        // PIL opens the first frame as "P"; convert("RGB") maps index 3 to (11, 22, 33) though it is the transparent one.
        Assert.Equal(new byte[] { 10, 20, 30, 11, 22, 33, 40, 50, 60, 11, 22, 33, 70, 80, 90, 10, 20, 30 }, decoded.ToRgb().Pixels);
    }

    [Fact]
    public void JpegAndWebPDecodeAsRgb()
    {
        var rgba = new byte[16 * 8 * 4];
        for (int i = 0; i < 16 * 8; i++)
        {
            rgba[i * 4] = (byte)(i * 2);
            rgba[i * 4 + 1] = (byte)(255 - i);
            rgba[i * 4 + 2] = (byte)(i % 16 * 16);
            rgba[i * 4 + 3] = 255;
        }
        var jpeg = ImageDecoder.DecodeKeepingMode(TestImages.Encode(16, 8, rgba, SKEncodedImageFormat.Jpeg, 90), "a.jpg");
        Assert.Equal((16, 8, PilImageMode.Rgb), (jpeg.Width, jpeg.Height, jpeg.Mode));

        // Lossless WebP round-trips exactly.
        var webp = ImageDecoder.DecodeKeepingMode(TestImages.LosslessWebP(16, 8, rgba), "a.webp");
        Assert.Equal(PilImageMode.Rgb, webp.Mode);
        Assert.Equal(rgba, webp.Rgba);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "cat.png");
        var ex = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Equal(path, ex.FileName);
    }

    [Fact]
    public void AFolderGivenAsAnImage_IsSaidToBeAFolder_NotMissing()
    {
        var folder = Directory.CreateTempSubdirectory("coca-folder-named-").FullName + "/photo.png";
        Directory.CreateDirectory(folder);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(folder));
            Assert.StartsWith($"Image file '{folder}' is a folder; expected an image file (.png", ex.Message);
        }
        finally { Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true); }
    }

    [Fact]
    public void TruncatedPngFailsNamingTheFileAndTheExpectedFormats()
    {
        var rgb = new byte[40 * 30 * 3];
        new Random(5).NextBytes(rgb);
        var png = TestImages.RgbPng(40, 30, rgb);
        using var dir = new TestImages.TempDir();
        var path = dir.Write("truncated.png", png[..(png.Length / 2)]);

        var ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains(ImageDecoder.ExpectedFormats, ex.Message);
    }

    [Fact]
    public void EmptyAndNonImageFilesFailClearly()
    {
        using var dir = new TestImages.TempDir();
        var empty = dir.Write("empty.jpg", []);
        var ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(empty));
        Assert.Contains(empty, ex.Message);
        Assert.Contains("empty", ex.Message);

        var text = dir.Write("notes.png", "this is not an image at all"u8.ToArray());
        ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains(ImageDecoder.ExpectedFormats, ex.Message);

        ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(new MemoryStream([1, 2, 3]), "upload #7"));
        Assert.Contains("upload #7", ex.Message);
    }

    [Fact]
    public void MLImageFromFileEqualsFileDecoding()
    {
        var rgb = new byte[33 * 21 * 3];
        new Random(11).NextBytes(rgb);
        using var dir = new TestImages.TempDir();
        var path = dir.Write("opaque.png", TestImages.RgbPng(33, 21, rgb));

        using var mlImage = MLImage.CreateFromFile(path);
        var fromMl = ImageDecoder.FromMLImage(mlImage);
        var fromFile = ImageDecoder.Decode(path);
        Assert.Equal(rgb, fromFile.Pixels);
        Assert.Equal(fromFile.Pixels, fromMl.Pixels);
    }

    [Fact]
    public void MLImagePremultipliedAlphaIsUndoneAndStraightPixelsAreKept()
    {
        byte[] rgba = [200, 100, 50, 128, 10, 20, 30, 255];
        using var dir = new TestImages.TempDir();
        var path = dir.Write("semi.png", TestImages.RgbaPng(2, 1, rgba));

        // MLImage.CreateFromFile premultiplies (SkiaSharp's SKBitmap.Decode): 200·128/255 ≈ 100 is what it stores.
        using var fromFile = MLImage.CreateFromFile(path);
        Assert.Equal(MLPixelFormat.Bgra32, fromFile.PixelFormat);
        Assert.Equal(100, fromFile.Pixels[2]);
        var restored = ImageDecoder.FromMLImage(fromFile);
        Assert.InRange(restored.Pixels[0], 199, 201);
        Assert.InRange(restored.Pixels[1], 99, 101);
        Assert.InRange(restored.Pixels[2], 49, 51);
        Assert.Equal(new byte[] { 10, 20, 30 }, restored.Pixels[3..]);

        using var straight = MLImage.CreateFromPixels(2, 1, MLPixelFormat.Rgba32, rgba);
        Assert.Equal(new byte[] { 200, 100, 50, 10, 20, 30 }, ImageDecoder.FromMLImage(straight, MLImageAlpha.Straight).Pixels);
    }
}

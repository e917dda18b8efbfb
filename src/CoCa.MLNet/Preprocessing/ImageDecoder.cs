using Microsoft.ML.Data;
using SkiaSharp;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// Decodes image files with SkiaSharp into exactly the pixels PIL (Pillow) reads: no colour management, no EXIF
/// rotation, alpha kept straight (never composited), grey and palette images expanded to RGB.
/// <see cref="Decode(string)"/> gives PIL's <c>Image.open(f).convert("RGB")</c>; <see cref="DecodeKeepingMode(string)"/>
/// also reports the PIL mode family, which open_clip-exact preprocessing needs (see <see cref="PilImageMode"/>).
/// </summary>
/// <remarks>
/// Checked bit-exact against Pillow 9.4 for PNG (RGB, RGBA, L, LA, 1/2/4-bit grey, palette with and without tRNS, 16-bit
/// RGB/RGBA), JPEG (baseline 4:2:0/4:4:4, progressive, greyscale), BMP (24-bit, 8-bit palette and grey), GIF (with and
/// without a transparent index) and WebP (lossy, lossless, with alpha). TIFF (which Skia lacks) is read by
/// <see cref="TiffDecoder"/>. 16-bit greyscale PNGs open as PIL's mode "I" (<see cref="PilImageMode.Integer"/>: integer
/// values, clipped to 255 by the RGB conversion), except interlaced ones. Known differences from PIL: CMYK JPEGs, GIFs
/// whose first frame is smaller than the canvas, and interlaced 16-bit greyscale PNGs.
/// </remarks>
internal static class ImageDecoder
{
    /// <summary>The formats decoded here, for error messages.</summary>
    public const string ExpectedFormats = "PNG, JPEG, BMP, GIF, WebP or TIFF";

    /// <summary>Decodes a file to RGB as PIL's <c>convert("RGB")</c> does.</summary>
    public static RgbImage Decode(string path) => DecodeKeepingMode(path).ToRgb();

    /// <summary>Decodes encoded bytes to RGB; <paramref name="name"/> names the source in error messages.</summary>
    public static RgbImage Decode(byte[] encoded, string? name = null) => DecodeKeepingMode(encoded, name).ToRgb();

    /// <summary>Reads the stream to its end and decodes it to RGB.</summary>
    public static RgbImage Decode(Stream stream, string? name = null) => DecodeKeepingMode(stream, name).ToRgb();

    /// <summary>Decodes a file to straight RGBA plus the PIL mode family it opens as.</summary>
    public static DecodedImage DecodeKeepingMode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw Directory.Exists(path)
                ? new InvalidDataException($"Image file '{path}' is a folder; expected an image file ({string.Join(" ", ImageFiles.Extensions)}).")
                : new FileNotFoundException($"Image file '{path}' does not exist.", path);
        return DecodeKeepingMode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes encoded bytes to straight RGBA plus the PIL mode family.</summary>
    public static DecodedImage DecodeKeepingMode(byte[] encoded, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return DecodeCore(encoded, name ?? "image data");
    }

    /// <summary>Reads the stream to its end and decodes it to straight RGBA plus the PIL mode family.</summary>
    public static DecodedImage DecodeKeepingMode(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return DecodeCore(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), name ?? "image stream");
    }

    /// <summary>
    /// Converts an ML.NET image (Bgra32 or Rgba32 pixels) to RGB. ML.NET images carry no PIL mode, so preprocessing them
    /// treats every image as RGB; decode files with <see cref="DecodeKeepingMode(string)"/> for open_clip-exact results on
    /// RGBA and palette images.
    /// </summary>
    /// <param name="image">The image; it is read, not disposed.</param>
    /// <param name="alpha">
    /// Whether its colours are premultiplied (the default: <c>MLImage.CreateFromFile</c>/<c>CreateFromStream</c> decode with
    /// SkiaSharp, which premultiplies). Premultiplied colours are divided back by alpha, rounding to nearest; that restores
    /// opaque pixels exactly, semi-transparent ones to within rounding, and fully transparent ones only as black (PIL would
    /// keep the colour the file stored).
    /// </param>
    public static RgbImage FromMLImage(MLImage image, MLImageAlpha alpha = MLImageAlpha.Premultiplied)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = image.Width, height = image.Height;
        var format = image.PixelFormat;
        int red, blue;
        switch (format)
        {
            case MLPixelFormat.Bgra32: red = 2; blue = 0; break;
            case MLPixelFormat.Rgba32: red = 0; blue = 2; break;
            default: throw new NotSupportedException($"MLImage pixel format {format} is not supported; expected Bgra32 or Rgba32.");
        }
        var pixels = image.Pixels;
        if (pixels.Length < width * height * 4 || pixels.Length % height != 0)
            throw new InvalidDataException($"MLImage of {width}x{height} exposes {pixels.Length} pixel bytes; expected at least {width * height * 4} in whole rows.");
        int stride = pixels.Length / height;
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * stride, width * 4);
            for (int x = 0; x < width; x++)
            {
                var px = row.Slice(x * 4, 4);
                int a = px[3];
                int o = (y * width + x) * 3;
                if (alpha == MLImageAlpha.Premultiplied && a != 255)
                {
                    rgb[o] = Unpremultiply(px[red], a);
                    rgb[o + 1] = Unpremultiply(px[1], a);
                    rgb[o + 2] = Unpremultiply(px[blue], a);
                }
                else
                {
                    rgb[o] = px[red];
                    rgb[o + 1] = px[1];
                    rgb[o + 2] = px[blue];
                }
            }
        }
        return new RgbImage(width, height, rgb);

        static byte Unpremultiply(int c, int a) => a == 0 ? (byte)0 : (byte)Math.Min(255, (c * 255 + a / 2) / a);
    }

    private static unsafe DecodedImage DecodeCore(ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.IsEmpty)
            throw new InvalidDataException($"Image '{name}' is empty (0 bytes); expected {ExpectedFormats}.");
        if (TiffDecoder.IsTiff(encoded)) return TiffDecoder.Decode(encoded.ToArray(), name);

        using var data = SKData.CreateCopy(encoded);
        // The codec takes ownership of the stream it was created from; only a failed create leaves it to us.
        var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
        {
            stream.Dispose();
            string why = createResult == SKCodecResult.IncompleteInput
                ? "its header is truncated"
                : "it is not in a recognised image format or its header is corrupt";
            throw new InvalidDataException($"Cannot decode image '{name}': {why} ({createResult}); expected {ExpectedFormats}.");
        }

        var format = codec.EncodedFormat;
        int width = codec.Info.Width, height = codec.Info.Height;
        long byteCount = 4L * width * height;
        if (width <= 0 || height <= 0 || byteCount > Array.MaxLength)
            throw new InvalidDataException($"Image '{name}' declares an unusable size {width}x{height}.");
        ImagePixelBudget.Check(name, width, height);   // from the header: nothing is decoded yet

        // No colour space on the target: Skia then converts nothing, as PIL ignores ICC profiles and gAMA.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[byteCount];
        SKCodecResult result;
        fixed (byte* pixels = rgba)
            result = codec.GetPixels(info, (IntPtr)pixels);
        if (result != SKCodecResult.Success)
        {
            string why = result == SKCodecResult.IncompleteInput ? "its data is truncated" : "its data is corrupt";
            throw new InvalidDataException($"Cannot decode {format} image '{name}': {why} ({result}); expected a complete {ExpectedFormats} file.");
        }

        if (format == SKEncodedImageFormat.Png && PngGrey16.Applies(encoded) && PngGrey16.ReadSamples(encoded, width, height) is { } grey)
        {
            if (grey.AsSpan().IndexOfAnyInRange(256, int.MaxValue) >= 0) ClippedGreyImages.Record(name);
            return DecodedImage.FromIntegerGrey(width, height, grey);
        }
        var mode = PilModeInspector.Classify(format, encoded, codec.Info.AlphaType);
        if (format == SKEncodedImageFormat.Gif)
            PilModeInspector.RestoreGifTransparentColours(encoded, rgba);
        var fill = mode == PilImageMode.Palette ? PilModeInspector.PaletteEntryZero(format, encoded) ?? default : default;
        return new DecodedImage(width, height, rgba, mode, fill);
    }
}

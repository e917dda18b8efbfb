using BitMiracle.LibTiff.Classic;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// TIFF files (SkiaSharp 2.88 has no TIFF codec), decoded with LibTiff.NET, a managed port of libtiff, so every
/// compression libtiff reads (none, PackBits, LZW, Deflate, JPEG, CCITT ...) works without a native library.
/// 8-bit strips or tiles of grey, grey + alpha, RGB and RGB + alpha (the common cases) are read sample by sample as PIL
/// reads them: straight alpha, values unchanged, PIL's mode ("L"/"RGB" → <see cref="PilImageMode.Rgb"/>, "LA"/"RGBA" →
/// <see cref="PilImageMode.Rgba"/>, "RGBX" → RGB). Other layouts (palette, bilevel, 16-bit, CMYK, YCbCr, separate planes)
/// go through libtiff's RGBA conversion, which PIL does not share bit for bit.
/// </summary>
internal static class TiffDecoder
{
    static TiffDecoder() => Tiff.SetErrorHandler(new QuietHandler());

    /// <summary>Whether <paramref name="data"/> starts with a TIFF (or BigTIFF) signature.</summary>
    public static bool IsTiff(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && ((data[0] == 'I' && data[1] == 'I' && (data[2] == 42 || data[2] == 43) && data[3] == 0)
                          || (data[0] == 'M' && data[1] == 'M' && data[2] == 0 && (data[3] == 42 || data[3] == 43)));

    public static DecodedImage Decode(byte[] data, string name)
    {
        QuietHandler.LastError = null;
        using var stream = new MemoryStream(data, writable: false);
        using var tiff = Tiff.ClientOpen(name, "r", stream, new TiffStream())
            ?? throw Bad(name, "its header is corrupt");
        int width = Field(tiff, TiffTag.IMAGEWIDTH, 0), height = Field(tiff, TiffTag.IMAGELENGTH, 0);
        if (width <= 0 || height <= 0 || 4L * width * height > Array.MaxLength)
            throw new InvalidDataException($"Image '{name}' declares an unusable size {width}x{height}.");
        ImagePixelBudget.Check(name, width, height);   // from the header: nothing is decoded yet
        int bits = Field(tiff, TiffTag.BITSPERSAMPLE, 1), samples = Field(tiff, TiffTag.SAMPLESPERPIXEL, 1);
        var photometric = (Photometric)Field(tiff, TiffTag.PHOTOMETRIC, -1);
        var planar = (PlanarConfig)Field(tiff, TiffTag.PLANARCONFIG, (int)PlanarConfig.CONTIG);
        int extra = ExtraSampleType(tiff);

        bool grey = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE && samples is 1 or 2;
        bool rgb = photometric == Photometric.RGB && samples is 3 or 4;
        if (bits == 8 && planar == PlanarConfig.CONTIG && (grey || rgb) && !tiff.IsTiled())
            return ReadStrips(tiff, name, width, height, samples, grey, photometric == Photometric.MINISWHITE, extra);
        return ReadThroughRgba(tiff, name, width, height, samples > (grey ? 1 : 3) && extra != 0);
    }

    // Scanlines as stored: PIL's values exactly.
    private static DecodedImage ReadStrips(Tiff tiff, string name, int width, int height, int samples, bool grey, bool minIsWhite, int extra)
    {
        var line = new byte[tiff.ScanlineSize()];
        var rgba = new byte[4L * width * height];
        bool alpha = samples == (grey ? 2 : 4) && extra != 0;   // extra 0: unspecified ("RGBX"/"LX"), dropped like PIL
        bool associated = extra == 1;
        for (int y = 0; y < height; y++)
        {
            if (!tiff.ReadScanline(line, y)) throw Bad(name, "its data is truncated or corrupt");
            for (int x = 0; x < width; x++)
            {
                int i = x * samples, o = (y * width + x) * 4;
                byte r, g, b, a = 255;
                if (grey)
                {
                    r = g = b = minIsWhite ? (byte)(255 - line[i]) : line[i];
                    if (alpha) a = line[i + 1];
                }
                else
                {
                    (r, g, b) = (line[i], line[i + 1], line[i + 2]);
                    if (alpha) a = line[i + 3];
                }
                if (associated && a != 0 && a != 255)
                {
                    // PIL opens associated alpha as "RGBa"; its RGBA view divides back: c·255/a, clipped.
                    r = (byte)Math.Min(255, r * 255 / a);
                    g = (byte)Math.Min(255, g * 255 / a);
                    b = (byte)Math.Min(255, b * 255 / a);
                }
                (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = (r, g, b, a);
            }
        }
        return new DecodedImage(width, height, rgba, alpha ? PilImageMode.Rgba : PilImageMode.Rgb);
    }

    private static DecodedImage ReadThroughRgba(Tiff tiff, string name, int width, int height, bool alpha)
    {
        var raster = new int[width * height];
        if (!tiff.ReadRGBAImageOriented(width, height, raster, Orientation.TOPLEFT, true))
            throw Bad(name, "its data is truncated, corrupt or in a layout libtiff cannot convert");
        var rgba = new byte[4L * width * height];
        for (int i = 0; i < raster.Length; i++)
        {
            int p = raster[i];
            int a = Tiff.GetA(p);
            byte Straight(int c) => alpha && a != 0 && a != 255 ? (byte)Math.Min(255, c * 255 / a) : (byte)c;   // libtiff premultiplies
            rgba[4 * i] = Straight(Tiff.GetR(p));
            rgba[4 * i + 1] = Straight(Tiff.GetG(p));
            rgba[4 * i + 2] = Straight(Tiff.GetB(p));
            rgba[4 * i + 3] = alpha ? (byte)a : (byte)255;
        }
        return new DecodedImage(width, height, rgba, alpha ? PilImageMode.Rgba : PilImageMode.Rgb);
    }

    private static int Field(Tiff tiff, TiffTag tag, int fallback) =>
        tiff.GetFieldDefaulted(tag) is { Length: > 0 } v ? v[0].ToInt() : fallback;

    private static int ExtraSampleType(Tiff tiff)
    {
        var v = tiff.GetField(TiffTag.EXTRASAMPLES);
        if (v is not { Length: >= 2 }) return 0;
        var types = v[1].ToShortArray();
        return types is { Length: > 0 } ? types[0] : 0;
    }

    private static InvalidDataException Bad(string name, string why) =>
        new($"Cannot decode TIFF image '{name}': {why}{(QuietHandler.LastError is { } e ? $" ({e})" : "")}; expected a complete {ImageDecoder.ExpectedFormats} file.");

    /// <summary>libtiff reports problems through a handler that prints to the console by default: keep the last error for our message instead.</summary>
    private sealed class QuietHandler : TiffErrorHandler
    {
        [ThreadStatic] public static string? LastError;

        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args) =>
            LastError = args.Length > 0 ? string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args) : format;

        public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args) { }

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args) { }

        public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args) { }
    }
}

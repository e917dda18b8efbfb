using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>Builds small encoded test images: SkiaSharp for what it can encode, hand-written PNG/GIF for palettes.</summary>
internal static class TestImages
{
    /// <summary>A PNG of straight (unpremultiplied) RGBA pixels, encoded by SkiaSharp.</summary>
    public static byte[] RgbaPng(int width, int height, byte[] rgba) => SkiaPng(width, height, rgba, SKColorType.Rgba8888, SKAlphaType.Unpremul);

    /// <summary>An opaque RGB PNG (SkiaSharp writes it as colour type 2 since every alpha is 255).</summary>
    public static byte[] RgbPng(int width, int height, byte[] rgb)
    {
        var rgba = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            rgba[i * 4] = rgb[i * 3];
            rgba[i * 4 + 1] = rgb[i * 3 + 1];
            rgba[i * 4 + 2] = rgb[i * 3 + 2];
            rgba[i * 4 + 3] = 255;
        }
        return SkiaPng(width, height, rgba, SKColorType.Rgba8888, SKAlphaType.Opaque);
    }

    /// <summary>An 8-bit greyscale PNG, encoded by SkiaSharp.</summary>
    public static byte[] GrayPng(int width, int height, byte[] gray) => SkiaPng(width, height, gray, SKColorType.Gray8, SKAlphaType.Opaque);

    public static byte[] Encode(int width, int height, byte[] rgba, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = Bitmap(width, height, rgba, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}.");
        return data.ToArray();
    }

    /// <summary>A lossless WebP, encoded by SkiaSharp.</summary>
    public static byte[] LosslessWebP(int width, int height, byte[] rgba)
    {
        using var bitmap = Bitmap(width, height, rgba, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("WebP encoding failed.");
        return data.ToArray();
    }

    private static byte[] SkiaPng(int width, int height, byte[] pixels, SKColorType colorType, SKAlphaType alphaType)
    {
        using var bitmap = Bitmap(width, height, pixels, colorType, alphaType);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("PNG encoding failed.");
        return data.ToArray();
    }

    private static SKBitmap Bitmap(int width, int height, byte[] pixels, SKColorType colorType, SKAlphaType alphaType)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, alphaType));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    /// <summary>An 8-bit palette PNG (colour type 3), optionally with a tRNS chunk; written by hand since SkiaSharp cannot.</summary>
    public static byte[] PalettePng(int width, int height, byte[] indices, byte[] palette, byte[]? transparency = null)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(indices, y * width, width);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            z.Write(raw.ToArray());

        var png = new MemoryStream();
        PngChunks.Signature(png);
        PngChunks.Header(png, width, height, colourType: 3);   // palette
        PngChunks.Chunk(png, "PLTE", palette);
        if (transparency is not null) PngChunks.Chunk(png, "tRNS", transparency);
        PngChunks.Chunk(png, "IDAT", compressed.ToArray());
        PngChunks.Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// A single-frame GIF89a with a 256-entry global palette and an optional transparent index. The LZW stream uses only
    /// literal codes (a clear code every 250 pixels keeps the code width at 9 bits), which every decoder accepts.
    /// </summary>
    public static byte[] Gif(int width, int height, byte[] indices, byte[] palette, int? transparentIndex)
    {
        var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16(gif, width);
        WriteUInt16(gif, height);
        gif.WriteByte(0xF7); // global table of 2^(7+1) = 256 entries
        gif.WriteByte(0);
        gif.WriteByte(0);
        var table = new byte[768];
        palette.CopyTo(table, 0);
        gif.Write(table);
        gif.Write([0x21, 0xF9, 0x04, (byte)(transparentIndex is null ? 0 : 1), 0, 0, (byte)(transparentIndex ?? 0), 0]);
        gif.WriteByte(0x2C);
        WriteUInt16(gif, 0);
        WriteUInt16(gif, 0);
        WriteUInt16(gif, width);
        WriteUInt16(gif, height);
        gif.WriteByte(0); // no local table, not interlaced
        gif.WriteByte(8); // LZW minimum code size

        const int clear = 256, end = 257;
        var bits = new List<byte>();
        int accumulator = 0, count = 0;
        void Emit(int code)
        {
            accumulator |= code << count;
            count += 9;
            while (count >= 8)
            {
                bits.Add((byte)accumulator);
                accumulator >>= 8;
                count -= 8;
            }
        }
        for (int i = 0; i < indices.Length; i++)
        {
            if (i % 250 == 0) Emit(clear);
            Emit(indices[i]);
        }
        Emit(end);
        if (count > 0) bits.Add((byte)accumulator);
        for (int i = 0; i < bits.Count; i += 255)
        {
            int n = Math.Min(255, bits.Count - i);
            gif.WriteByte((byte)n);
            gif.Write(bits.GetRange(i, n).ToArray());
        }
        gif.WriteByte(0);
        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    private static void WriteUInt16(Stream s, int value)
    {
        s.WriteByte((byte)value);
        s.WriteByte((byte)(value >> 8));
    }

    /// <summary>A temporary directory removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "coca-preproc-" + Guid.NewGuid().ToString("N"));
        public string Write(string name, byte[] bytes)
        {
            var file = System.IO.Path.Combine(Path, name);
            File.WriteAllBytes(file, bytes);
            return file;
        }
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}

using System.Buffers.Binary;
using SkiaSharp;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// Reads just enough of a file's header to tell which PIL mode family Pillow (9.x) opens it as, and for GIFs the
/// colour PIL gives transparent pixels. Skia decodes the pixels; this decides how open_clip would have resized them.
/// </summary>
internal static class PilModeInspector
{
    /// <summary>
    /// The PIL mode family of an encoded image. <paramref name="skiaAlpha"/> (Skia's view of the alpha channel) is the
    /// fallback for formats whose PIL mode follows it (WebP) or whose header cannot be read here.
    /// </summary>
    public static PilImageMode Classify(SKEncodedImageFormat format, ReadOnlySpan<byte> data, SKAlphaType skiaAlpha)
    {
        var byAlpha = skiaAlpha == SKAlphaType.Opaque ? PilImageMode.Rgb : PilImageMode.Rgba;
        return format switch
        {
            SKEncodedImageFormat.Jpeg => PilImageMode.Rgb,
            SKEncodedImageFormat.Png => ClassifyPng(data) ?? byAlpha,
            SKEncodedImageFormat.Gif => ReadGif(data) is { } gif ? (gif.FramePalette is null ? PilImageMode.Rgb : PilImageMode.Palette) : PilImageMode.Palette,
            SKEncodedImageFormat.Bmp => ClassifyBmp(data) ?? byAlpha,
            _ => byAlpha,
        };
    }

    /// <summary>
    /// The colour of palette index 0 (PNG PLTE, the GIF frame's table, the BMP colour table), or null when there is none.
    /// PIL's fill value 0 means this colour for a palette image, e.g. for open_clip's CenterCropOrPad padding.
    /// </summary>
    public static (byte R, byte G, byte B)? PaletteEntryZero(SKEncodedImageFormat format, ReadOnlySpan<byte> data)
    {
        switch (format)
        {
            case SKEncodedImageFormat.Png:
                for (int pos = 8; pos + 8 <= data.Length;)
                {
                    int length = BinaryPrimitives.ReadInt32BigEndian(data[pos..]);
                    var type = data.Slice(pos + 4, 4);
                    if (length < 0 || type.SequenceEqual("IDAT"u8)) return null;
                    if (type.SequenceEqual("PLTE"u8))
                        return length >= 3 && pos + 11 <= data.Length ? (data[pos + 8], data[pos + 9], data[pos + 10]) : null;
                    pos += 12 + length;
                }
                return null;
            case SKEncodedImageFormat.Gif:
                return ReadGif(data)?.RawPalette is { Length: >= 3 } gifPalette ? (gifPalette[0], gifPalette[1], gifPalette[2]) : null;
            case SKEncodedImageFormat.Bmp:
            {
                if (data.Length < 18) return null;
                int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
                int start = 14 + headerSize;
                // Entries are stored B, G, R.
                return headerSize > 0 && start + 3 <= data.Length ? (data[start + 2], data[start + 1], data[start]) : null;
            }
            default:
                return null;
        }
    }

    /// <summary>PNG IHDR colour type and bit depth → PIL mode (PngImagePlugin._MODES).</summary>
    private static PilImageMode? ClassifyPng(ReadOnlySpan<byte> data)
    {
        // signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4) + bit depth (1) + colour type (1)
        if (data.Length < 26 || data[12] != 'I' || data[13] != 'H' || data[14] != 'D' || data[15] != 'R') return null;
        int bitDepth = data[24];
        return data[25] switch
        {
            0 => bitDepth == 1 ? PilImageMode.Palette : PilImageMode.Rgb, // "1" is resized NEAREST like "P"
            2 => PilImageMode.Rgb,                                       // tRNS on RGB stays mode "RGB"
            3 => PilImageMode.Palette,
            4 or 6 => PilImageMode.Rgba,
            _ => null,
        };
    }

    /// <summary>BmpImagePlugin: ≤ 8 bits is "P" unless the palette is a grey ramp ("1" for 2 colours, else "L");
    /// 32 bits is "RGBA" only with BITFIELDS masks that include alpha.</summary>
    private static PilImageMode? ClassifyBmp(ReadOnlySpan<byte> data)
    {
        if (data.Length < 18 || data[0] != 'B' || data[1] != 'M') return null;
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
        int bits, compression = 0, colors = 0, entrySize;
        if (headerSize == 12)
        {
            if (data.Length < 26) return null;
            bits = BinaryPrimitives.ReadUInt16LittleEndian(data[24..]);
            entrySize = 3;
        }
        else if (headerSize is 40 or 64 or 108 or 124)
        {
            if (data.Length < 54) return null;
            bits = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
            compression = BinaryPrimitives.ReadInt32LittleEndian(data[30..]);
            colors = BinaryPrimitives.ReadInt32LittleEndian(data[46..]);
            entrySize = 4;
        }
        else return null;

        if (bits <= 8)
        {
            if (colors == 0) colors = 1 << bits;
            int paletteStart = 14 + headerSize;
            if (colors <= 0 || data.Length < paletteStart + colors * entrySize) return null;
            if (colors == 2) return PilImageMode.Palette; // "1" or "P": both resized NEAREST
            for (int i = 0; i < colors; i++)
            {
                var entry = data.Slice(paletteStart + i * entrySize, 3);
                if (entry[0] != i || entry[1] != i || entry[2] != i) return PilImageMode.Palette;
            }
            return PilImageMode.Rgb; // grey ramp: PIL opens it as "L"
        }
        const int bitfields = 3;
        if (bits == 32 && compression == bitfields)
        {
            // Masks live in the header only when it is at least 56 bytes; a 40-byte header has no alpha mask.
            if (headerSize < 56) return PilImageMode.Rgb;
            uint r = BinaryPrimitives.ReadUInt32LittleEndian(data[54..]);
            uint g = BinaryPrimitives.ReadUInt32LittleEndian(data[58..]);
            uint b = BinaryPrimitives.ReadUInt32LittleEndian(data[62..]);
            uint a = BinaryPrimitives.ReadUInt32LittleEndian(data[66..]);
            bool allZero = r == 0 && g == 0 && b == 0 && a == 0; // PIL reads that layout as BGRA
            return a != 0 || allZero ? PilImageMode.Rgba : PilImageMode.Rgb;
        }
        return PilImageMode.Rgb;
    }

    /// <summary>What GifImagePlugin sees of the first frame.</summary>
    internal sealed record GifFirstFrame(byte[]? FramePalette, byte[]? RawPalette, int? TransparentIndex);

    /// <summary>
    /// Reads the first frame's palette and transparency as Pillow does: the frame's palette is its local table, else the
    /// global one, and a table that is the identity grey ramp (entry i = (i,i,i)) counts as none (mode "L").
    /// </summary>
    internal static GifFirstFrame? ReadGif(ReadOnlySpan<byte> data)
    {
        if (data.Length < 13 || data[0] != 'G' || data[1] != 'I' || data[2] != 'F') return null;
        int pos = 13;
        byte[]? global = null;
        int flags = data[10];
        if ((flags & 0x80) != 0)
        {
            int size = 3 << ((flags & 7) + 1);
            if (data.Length < pos + size) return null;
            global = data.Slice(pos, size).ToArray();
            pos += size;
        }
        int? transparent = null;
        while (pos < data.Length)
        {
            byte block = data[pos++];
            if (block == 0x21)
            {
                if (pos >= data.Length) return null;
                byte label = data[pos++];
                bool first = true;
                while (pos < data.Length)
                {
                    int size = data[pos++];
                    if (size == 0) break;
                    if (pos + size > data.Length) return null;
                    // Graphic control extension: packed flags, delay (2), transparent index.
                    // Like Pillow, a later control block without the flag does not clear an earlier index.
                    if (first && label == 0xF9 && size >= 4 && (data[pos] & 1) != 0)
                        transparent = data[pos + 3];
                    first = false;
                    pos += size;
                }
            }
            else if (block == 0x2C)
            {
                if (pos + 9 > data.Length) return null;
                int packed = data[pos + 8];
                byte[]? local = null;
                bool hasLocal = (packed & 0x80) != 0;
                if (hasLocal)
                {
                    int size = 3 << ((packed & 7) + 1);
                    if (pos + 9 + size > data.Length) return null;
                    local = data.Slice(pos + 9, size).ToArray();
                }
                var raw = hasLocal ? local : global;
                var framePalette = raw is not null && !IsGreyRamp(raw) ? raw : null;
                return new GifFirstFrame(framePalette, raw, transparent);
            }
            else break;
        }
        return null;
    }

    /// <summary>
    /// PIL gives pixels of a GIF's transparent index (and canvas outside the first frame) the palette colour of that
    /// index, where Skia makes them transparent black: put PIL's colour back into pixels Skia left with alpha 0.
    /// </summary>
    public static void RestoreGifTransparentColours(ReadOnlySpan<byte> data, Span<byte> rgba)
    {
        var frame = ReadGif(data);
        if (frame is null) return;
        int index = frame.TransparentIndex ?? 0;
        byte r, g, b;
        if (frame.RawPalette is { } palette)
        {
            bool inside = index * 3 + 2 < palette.Length;
            r = inside ? palette[index * 3] : (byte)0;
            g = inside ? palette[index * 3 + 1] : (byte)0;
            b = inside ? palette[index * 3 + 2] : (byte)0;
        }
        else
        {
            r = g = b = (byte)index; // no palette at all: mode "L", the index is the grey level
        }
        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            if (rgba[i + 3] != 0) continue;
            rgba[i] = r;
            rgba[i + 1] = g;
            rgba[i + 2] = b;
        }
    }

    private static bool IsGreyRamp(ReadOnlySpan<byte> palette)
    {
        for (int i = 0; i + 2 < palette.Length; i += 3)
        {
            int index = i / 3;
            if (palette[i] != index || palette[i + 1] != index || palette[i + 2] != index) return false;
        }
        return true;
    }
}

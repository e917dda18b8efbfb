using System.Buffers.Binary;
using System.IO.Compression;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// 16-bit greyscale PNGs, which PIL opens as mode "I" (32-bit integers, here 0–65535): Skia would scale them to 8 bits,
/// PIL keeps the values, resizes them as integers (<see cref="PilResize"/>'s 32-bit path) and only its
/// <c>convert("RGB")</c> clips them to 0–255. This reads the samples (non-interlaced files; an interlaced one is left to
/// Skia) so that preprocessing can do the same.
/// </summary>
internal static class PngGrey16
{
    /// <summary>Whether <paramref name="png"/>'s IHDR says greyscale, 16 bits, not interlaced.</summary>
    public static bool Applies(ReadOnlySpan<byte> png) =>
        png.Length >= 29 && png[12] == 'I' && png[13] == 'H' && png[14] == 'D' && png[15] == 'R'
        && png[24] == 16 && png[25] == 0 && png[28] == 0;

    /// <summary>The samples, row-major, as PIL's mode "I" holds them; null when the data cannot be read here.</summary>
    public static int[]? ReadSamples(ReadOnlySpan<byte> png, int width, int height)
    {
        using var idat = new MemoryStream();
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png[pos..]);
            if (length < 0 || pos + 12L + length > png.Length) return null;
            var type = png.Slice(pos + 4, 4);
            if (type.SequenceEqual("IDAT"u8)) idat.Write(png.Slice(pos + 8, length));
            if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + length;
        }
        idat.Position = 0;
        int stride = width * 2;
        var raw = new byte[(long)(stride + 1) * height];
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            z.ReadExactly(raw);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            return null;
        }

        var samples = new int[width * height];
        var previous = new byte[stride];
        var line = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var src = raw.AsSpan(y * (stride + 1), stride + 1);
            if (!Unfilter(src[0], src[1..], previous, line)) return null;
            for (int x = 0; x < width; x++) samples[y * width + x] = (line[2 * x] << 8) | line[2 * x + 1];
            (previous, line) = (line, previous);
        }
        return samples;
    }

    // PNG filters (bytes per pixel 2), into `line` from the filtered row and the previous unfiltered row.
    private static bool Unfilter(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, Span<byte> line)
    {
        const int bpp = 2;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? line[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
            int predictor = filter switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                4 => Paeth(a, b, c),
                _ => -1,
            };
            if (predictor < 0) return false;
            line[i] = (byte)(row[i] + predictor);
        }
        return true;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

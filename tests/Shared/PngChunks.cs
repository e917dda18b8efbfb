using System.Buffers.Binary;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// Writes PNG files by hand, chunk by chunk, for images an encoder will not write: palettes with tRNS, or an image too
/// large to hold in memory (its rows streamed through zlib).
/// </summary>
public static class PngChunks
{
    public static void Signature(Stream png) => png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

    /// <summary>The IHDR chunk of an 8-bit, non-interlaced image of <paramref name="colourType"/> (2: RGB, 3: palette).</summary>
    public static void Header(Stream png, int width, int height, byte colourType)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = colourType;
        Chunk(png, "IHDR", ihdr);
    }

    public static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeAndData = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        png.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}

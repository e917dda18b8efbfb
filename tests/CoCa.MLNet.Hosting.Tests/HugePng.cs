using System.IO.Compression;

namespace CoCa.MLNet.Hosting.Tests;

/// <summary>
/// A valid, black RGB PNG of any size, written without holding its pixels: rows of zeros compress about a
/// thousandfold, so 12000x12000 (576 MB decoded as RGBA) is a file of about 440 KB, a decompression bomb for a service
/// that decodes what it is sent.
/// </summary>
internal static class HugePng
{
    public static byte[] Create(int width, int height)
    {
        using var png = new MemoryStream();
        PngChunks.Signature(png);
        PngChunks.Header(png, width, height, colourType: 2);   // RGB
        using (var data = new MemoryStream())
        {
            using (var zlib = new ZLibStream(data, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                var row = new byte[1 + 3 * width];   // filter byte 0, then black pixels
                for (int y = 0; y < height; y++) zlib.Write(row);
            }
            PngChunks.Chunk(png, "IDAT", data.ToArray());
        }
        PngChunks.Chunk(png, "IEND", []);
        return png.ToArray();
    }
}

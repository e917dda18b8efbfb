using SkiaSharp;

namespace CoCa.MLNet.Video;

/// <summary>Reads a frame image's size from its header, without decoding pixels.</summary>
internal static class ImageHeader
{
    public static (int Width, int Height) ReadSize(string path)
    {
        using var codec = SKCodec.Create(path, out var result)
            ?? throw new InvalidDataException($"'{path}' is not an image SkiaSharp can read ({result}).");
        return (codec.Info.Width, codec.Info.Height);
    }
}

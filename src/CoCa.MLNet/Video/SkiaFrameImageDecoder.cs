using CoCa.MLNet.Preprocessing;
using SkiaSharp;

namespace CoCa.MLNet.Video;

/// <summary>
/// Minimal SkiaSharp decode of one frame image to 8-bit RGB (alpha dropped, as PIL's <c>convert("RGB")</c> does).
/// Temporary: the default for frame folders until the shared <c>Preprocessing/ImageDecoder</c> (branch preproc) is
/// merged; the lead replaces this with it so that folder frames and single images decode identically.
/// </summary>
internal static class SkiaFrameImageDecoder
{
    public static RgbImage Decode(string path)
    {
        using var codec = SKCodec.Create(path, out var result)
            ?? throw new InvalidDataException($"'{path}' is not an image SkiaSharp can decode ({result}).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* p = rgba)
            {
                var status = codec.GetPixels(info, (IntPtr)p);
                if (status is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                    throw new InvalidDataException($"'{path}' could not be decoded ({status}).");
            }
        }
        var rgb = new byte[info.Width * info.Height * 3];
        for (int src = 0, dst = 0; dst < rgb.Length; src += 4, dst += 3)
        {
            rgb[dst] = rgba[src];
            rgb[dst + 1] = rgba[src + 1];
            rgb[dst + 2] = rgba[src + 2];
        }
        return new RgbImage(info.Width, info.Height, rgb);
    }

    /// <summary>The image's size from its header, without decoding pixels.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        using var codec = SKCodec.Create(path, out var result)
            ?? throw new InvalidDataException($"'{path}' is not an image SkiaSharp can read ({result}).");
        return (codec.Info.Width, codec.Info.Height);
    }
}

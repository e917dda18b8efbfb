namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// An 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B: what PIL's <c>Image.convert("RGB")</c> holds,
/// and what open_clip's preprocessing starts from.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}x{height} must be positive.");
        if (pixels.Length != checked(width * height * 3))
            throw new ArgumentException($"An RGB image of {width}x{height} needs {width * height * 3} bytes, got {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>Row-major interleaved RGB bytes, length Width*Height*3.</summary>
    public byte[] Pixels { get; }
}

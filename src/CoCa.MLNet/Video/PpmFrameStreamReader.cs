using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>
/// Reads a stream of binary PPM images (what <c>ffmpeg -f image2pipe -c:v ppm -pix_fmt rgb24</c> writes) one frame at
/// a time. Each frame carries its own size in its header, so frames come out right even when ffmpeg rotates them
/// (display-matrix metadata) and no frame size has to be predicted from the probe.
/// </summary>
internal sealed class PpmFrameStreamReader
{
    private readonly Stream _stream;
    private readonly string _videoPath;

    public PpmFrameStreamReader(Stream stream, string videoPath)
    {
        _stream = new BufferedStream(stream, 1 << 16);
        _videoPath = videoPath;
    }

    /// <summary>The next frame, or null at the end of the stream.</summary>
    public RgbImage? ReadFrame()
    {
        int first = _stream.ReadByte();
        if (first < 0) return null;
        if (first != 'P' || _stream.ReadByte() != '6')
            throw Malformed("a frame does not start with the PPM 'P6' signature");
        int width = ReadHeaderNumber("width");
        int height = ReadHeaderNumber("height");
        int maxValue = ReadHeaderNumber("maximum value");
        if (maxValue != 255) throw Malformed($"PPM maximum value {maxValue}, expected 255 (8-bit RGB)");
        if (width <= 0 || height <= 0) throw Malformed($"PPM frame size {width}x{height}");

        var pixels = new byte[checked(width * height * 3)];
        int filled = 0;
        while (filled < pixels.Length)
        {
            int read = _stream.Read(pixels, filled, pixels.Length - filled);
            if (read == 0) throw Malformed($"the stream ended inside a {width}x{height} frame ({filled} of {pixels.Length} bytes)");
            filled += read;
        }
        return new RgbImage(width, height, pixels);
    }

    // Header: whitespace-separated decimal numbers; exactly one whitespace byte follows the last one.
    private int ReadHeaderNumber(string what)
    {
        int c;
        do c = _stream.ReadByte(); while (c is ' ' or '\n' or '\r' or '\t');
        long value = 0;
        int digits = 0;
        while (c is >= '0' and <= '9')
        {
            value = value * 10 + (c - '0');
            if (++digits > 9) throw Malformed($"PPM {what} is too large");
            c = _stream.ReadByte();
        }
        if (digits == 0 || c is not (' ' or '\n' or '\r' or '\t'))
            throw Malformed($"PPM header has no valid {what}");
        return (int)value;
    }

    private VideoDecodingException Malformed(string detail) =>
        new(_videoPath, $"Decoding video '{_videoPath}': ffmpeg's frame output is malformed ({detail}).");
}

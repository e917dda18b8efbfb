using CoCa.MLNet.Demo;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Video;

/// <summary>
/// Test videos whose frames say which source frame they are, robustly enough to survive lossy coding: frame k is grey
/// level 16 + 6k, with a black marker square top-left and a red one top-right (orientation and R/B order).
/// </summary>
internal static class IndexCodedVideo
{
    public const int Width = 64, Height = 48, MaxFrames = 40;

    public static byte GreyLevel(int index) => (byte)(16 + 6 * index);

    public static RgbImage Frame(int index)
    {
        if (index is < 0 or >= MaxFrames) throw new ArgumentOutOfRangeException(nameof(index));
        var pixels = new byte[Width * Height * 3];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int o = (y * Width + x) * 3;
                (byte r, byte g, byte b) = (x, y) switch
                {
                    ( < 16, < 16) => ((byte)0, (byte)0, (byte)0),
                    ( >= Width - 16, < 16) => ((byte)220, (byte)20, (byte)20),
                    _ => (GreyLevel(index), GreyLevel(index), GreyLevel(index)),
                };
                pixels[o] = r; pixels[o + 1] = g; pixels[o + 2] = b;
            }
        return new RgbImage(Width, Height, pixels);
    }

    public static IEnumerable<RgbImage> Frames(int count) => Enumerable.Range(0, count).Select(Frame);

    /// <summary>Which source frame <paramref name="frame"/> shows; asserts the layout survived decoding.</summary>
    public static int ReadIndex(RgbImage frame)
    {
        Assert.Equal(Width, frame.Width);
        Assert.Equal(Height, frame.Height);
        var topLeft = Mean(frame, 4, 4, 8, 8);
        Assert.True(topLeft.R < 24 && topLeft.G < 24 && topLeft.B < 24, $"top-left marker should be black, got {topLeft}");
        var topRight = Mean(frame, Width - 12, 4, 8, 8);
        Assert.True(topRight.R > 180 && topRight.B < 60, $"top-right marker should be red, got {topRight}");

        var body = Mean(frame, 20, 20, Width - 20, Height - 20);
        double grey = (body.R + body.G + body.B) / 3;
        int index = (int)Math.Round((grey - 16) / 6);
        Assert.True(Math.Abs(grey - GreyLevel(index)) < 2.5, $"grey level {grey:F2} is not close to any frame's level");
        return index;
    }

    public static (double R, double G, double B) Mean(RgbImage image, int x0, int y0, int w, int h)
    {
        double r = 0, g = 0, b = 0;
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x0 + w; x++)
            {
                int o = (y * image.Width + x) * 3;
                r += image.Pixels[o]; g += image.Pixels[o + 1]; b += image.Pixels[o + 2];
            }
        int n = w * h;
        return (r / n, g / n, b / n);
    }

    public static string Write(string folder, string name, int frameCount, VideoOutputFormat format, double fps = 10)
    {
        string path = Path.Combine(folder, name + FfmpegVideoWriter.Extension(format));
        FfmpegVideoWriter.Write(path, Frames(frameCount), fps, format);
        return path;
    }
}

/// <summary>A temporary folder deleted at the end.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "coca-video-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The index-coded videos the sampling tests share, written once.</summary>
public sealed class IndexCodedVideosFixture : IDisposable
{
    private readonly TempFolder _folder = new();

    public IndexCodedVideosFixture()
    {
        foreach (var format in Enum.GetValues<VideoOutputFormat>())
        {
            Long[format] = IndexCodedVideo.Write(_folder.Path, "n40_" + format, 40, format);
            Short[format] = IndexCodedVideo.Write(_folder.Path, "n5_" + format, 5, format);
        }
    }

    /// <summary>40-frame videos per format.</summary>
    public Dictionary<VideoOutputFormat, string> Long { get; } = [];
    /// <summary>5-frame videos per format.</summary>
    public Dictionary<VideoOutputFormat, string> Short { get; } = [];

    public string Folder => _folder.Path;

    public void Dispose() => _folder.Dispose();
}

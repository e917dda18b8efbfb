using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Video;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Demo;

public class VideoDatasetGeneratorTests
{
    private static readonly MotionDatasetOptions Small = new() { VideosPerClass = 2, Width = 48, Height = 32, FrameCount = 10, Seed = 7 };

    [Theory]
    [InlineData(VideoOutputFormat.Mp4H264)]
    [InlineData(VideoOutputFormat.WebmVp9)]
    [InlineData(VideoOutputFormat.AviMjpeg)]
    [InlineData(VideoOutputFormat.PngFrames)]
    public void WritesFolderPerClassVideosThatDecodeWithTheirMotion(VideoOutputFormat format)
    {
        using var temp = new TempFolder();
        var entries = VideoDatasetGenerator.GenerateMotionDataset(temp.Path, Small with { Format = format, VideosPerClass = 1 });

        Assert.Equal(["left", "right", "up", "down"], entries.Select(e => e.Label));
        var reader = new VideoReader();
        foreach (var entry in entries)
        {
            Assert.Equal(Path.Combine(temp.Path, entry.Label), Path.GetDirectoryName(entry.Path));
            var sampled = reader.SampleFrames(entry.Path, Small.FrameCount);
            Assert.Equal(Small.FrameCount, sampled.Video.FrameCount);
            Assert.Equal((48, 32), (sampled.Video.Width, sampled.Video.Height));
            Assert.Equal(Enumerable.Range(0, Small.FrameCount), sampled.SourceIndices);
            AssertMovesIn(entry.Label, sampled.Frames, entry.Path);
        }
    }

    [Fact]
    public void WritesTheRequestedNumberOfVideosPerClassUnderNumberedNames()
    {
        using var temp = new TempFolder();
        var entries = VideoDatasetGenerator.GenerateMotionDataset(temp.Path,
            Small with { VideosPerClass = 3, Directions = [MotionDirection.Down, MotionDirection.Left], Format = VideoOutputFormat.AviMjpeg });

        Assert.Equal(["down_000.avi", "down_001.avi", "down_002.avi", "left_000.avi", "left_001.avi", "left_002.avi"], entries.Select(e => Path.GetFileName(e.Path)));
        Assert.Equal(["down", "left"], Directory.GetDirectories(temp.Path).Select(Path.GetFileName).Order());
        Assert.All(entries, e => Assert.True(File.Exists(e.Path)));
    }

    [Fact]
    public void TheSquaresColourTellsTimeFromRedToBlue()
    {
        var frames = VideoDatasetGenerator.RenderMotionVideo(MotionDirection.Up, Small, new Random(3));
        var first = SquareColour(frames[0]);
        var last = SquareColour(frames[^1]);
        Assert.True(first.R > 240 && first.B < 70, $"first frame's square should be red, got {first}");
        Assert.True(last.B > 240 && last.R < 70, $"last frame's square should be blue, got {last}");

        var white = VideoDatasetGenerator.RenderMotionVideo(MotionDirection.Up, Small with { ColourEncodesTime = false }, new Random(3));
        Assert.Equal(SquareColour(white[0]), SquareColour(white[^1]));
    }

    [Fact]
    public void TheSameSeedGivesTheSameVideosAndAnotherSeedOthers()
    {
        var a = VideoDatasetGenerator.RenderMotionVideo(MotionDirection.Left, Small, new Random(11));
        var b = VideoDatasetGenerator.RenderMotionVideo(MotionDirection.Left, Small, new Random(11));
        var c = VideoDatasetGenerator.RenderMotionVideo(MotionDirection.Left, Small, new Random(12));
        Assert.Equal(a.Select(f => f.Pixels), b.Select(f => f.Pixels));
        Assert.NotEqual(a[0].Pixels, c[0].Pixels);
    }

    [Fact]
    public void RejectsImpossibleSettings()
    {
        using var temp = new TempFolder();
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoDatasetGenerator.GenerateMotionDataset(temp.Path, Small with { VideosPerClass = 0 }));
        Assert.Throws<ArgumentException>(() => VideoDatasetGenerator.GenerateMotionDataset(temp.Path, Small with { Directions = [MotionDirection.Up, MotionDirection.Up] }));
        // H.264 needs even sizes; the error names the file
        var e = Assert.Throws<ArgumentException>(() => VideoDatasetGenerator.GenerateMotionDataset(temp.Path, Small with { Width = 33 }));
        Assert.Contains("even frame size", e.Message);
    }

    // The square's centre (pixels much brighter than the background) moves monotonically in the labelled direction.
    private static void AssertMovesIn(string label, RgbImage[] frames, string path)
    {
        var centres = frames.Select(SquareCentre).ToArray();
        double dx = centres[^1].X - centres[0].X, dy = centres[^1].Y - centres[0].Y;
        (double along, double across) = label switch
        {
            "left" => (-dx, dy),
            "right" => (dx, dy),
            "up" => (-dy, dx),
            "down" => (dy, dx),
            _ => throw new ArgumentException(label),
        };
        Assert.True(along > 6 && Math.Abs(across) < 1.5, $"{path}: square moved ({dx:F1}, {dy:F1}), expected {label}");
        for (int i = 1; i < centres.Length; i++)
        {
            double step = label is "left" or "right" ? centres[i].X - centres[i - 1].X : centres[i].Y - centres[i - 1].Y;
            if (label is "left" or "up") step = -step;
            Assert.True(step > -0.75, $"{path}: frame {i} moves against {label} by {step:F2}");
        }
    }

    private static (double X, double Y) SquareCentre(RgbImage frame)
    {
        double sx = 0, sy = 0; int n = 0;
        for (int y = 0; y < frame.Height; y++)
            for (int x = 0; x < frame.Width; x++)
            {
                int o = (y * frame.Width + x) * 3;
                if (Math.Max(frame.Pixels[o], frame.Pixels[o + 2]) > 130) { sx += x; sy += y; n++; }
            }
        Assert.True(n > 0, "no square found");
        return (sx / n, sy / n);
    }

    private static (double R, double G, double B) SquareColour(RgbImage frame)
    {
        var (cx, cy) = SquareCentre(frame);
        return IndexCodedVideo.Mean(frame, (int)cx - 1, (int)cy - 1, 2, 2);
    }
}

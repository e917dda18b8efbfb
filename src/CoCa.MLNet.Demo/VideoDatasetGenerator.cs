using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Demo;

/// <summary>
/// Writes a synthetic video-classification dataset: a bright square moving left, right, up or down over a dark noisy
/// background, one sub-folder per direction (root/left/left_000.mp4, root/right/…) — the layout users bring, and
/// what samples and end-to-end tests train the multi-frame pooler on.
/// </summary>
public static class VideoDatasetGenerator
{
    /// <summary>
    /// Writes <see cref="MotionDatasetOptions.VideosPerClass"/> videos per direction under <paramref name="rootFolder"/>
    /// and returns them (path, label) in class order. Needs ffmpeg for every format (PNG frames included).
    /// Each square starts at a random place, travels 60–100 % of the free span in its direction at constant speed,
    /// at a random offset across it; background tint and noise are random per video.
    /// </summary>
    public static IReadOnlyList<VideoDatasetEntry> GenerateMotionDataset(string rootFolder, MotionDatasetOptions? options = null,
        VideoReaderOptions? ffmpeg = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootFolder);
        options ??= new MotionDatasetOptions();
        Validate(options);

        var entries = new List<VideoDatasetEntry>();
        for (int c = 0; c < options.Directions.Count; c++)
        {
            var direction = options.Directions[c];
            string label = Label(direction);
            string classFolder = Path.Combine(Path.GetFullPath(rootFolder), label);
            Directory.CreateDirectory(classFolder);
            for (int i = 0; i < options.VideosPerClass; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // One generator per video, seeded by (seed, direction, index): any subset regenerates identically.
                var random = new Random(unchecked(options.Seed * 1_000_003 + (int)direction * 10_007 + i));
                string path = Path.Combine(classFolder, $"{label}_{i:D3}{FfmpegVideoWriter.Extension(options.Format)}");
                FfmpegVideoWriter.Write(path, RenderMotionVideo(direction, options, random), options.FramesPerSecond, options.Format, ffmpeg, cancellationToken);
                entries.Add(new VideoDatasetEntry(path, label));
            }
        }
        return entries;
    }

    /// <summary>The class label (folder name) of a direction: "left", "right", "up", "down".</summary>
    public static string Label(MotionDirection direction) => direction.ToString().ToLowerInvariant();

    /// <summary>The frames of one motion video (before encoding).</summary>
    internal static RgbImage[] RenderMotionVideo(MotionDirection direction, MotionDatasetOptions options, Random random)
    {
        int w = options.Width, h = options.Height, frames = options.FrameCount;
        int side = Math.Max(2, (int)Math.Round(options.SquareFraction * Math.Min(w, h)));

        var background = new byte[w * h * 3];
        var tint = new[] { random.Next(20, 61), random.Next(20, 61), random.Next(20, 61) };
        for (int p = 0; p < w * h; p++)
            for (int ch = 0; ch < 3; ch++)
                background[p * 3 + ch] = ClampByte(tint[ch] + random.Next(options.NoiseAmplitude + 1) - options.NoiseAmplitude / 2);

        bool horizontal = direction is MotionDirection.Left or MotionDirection.Right;
        int span = (horizontal ? w : h) - side;          // free positions along the motion
        int across = (horizontal ? h : w) - side;        // free positions across it
        int travel = (int)Math.Round(span * (0.6 + 0.4 * random.NextDouble()));
        int start = random.Next(span - travel + 1);      // lowest coordinate of the path
        int offset = random.Next(across + 1);
        bool increasing = direction is MotionDirection.Right or MotionDirection.Down;

        var result = new RgbImage[frames];
        for (int t = 0; t < frames; t++)
        {
            double progress = frames == 1 ? 0 : (double)t / (frames - 1);
            int along = start + (int)Math.Round(travel * (increasing ? progress : 1 - progress));
            int x0 = horizontal ? along : offset, y0 = horizontal ? offset : along;
            var colour = SquareColour(progress, options.ColourEncodesTime);

            var pixels = (byte[])background.Clone();
            for (int y = y0; y < y0 + side; y++)
                for (int x = x0; x < x0 + side; x++)
                {
                    int o = (y * w + x) * 3;
                    pixels[o] = colour.R;
                    pixels[o + 1] = colour.G;
                    pixels[o + 2] = colour.B;
                }
            result[t] = new RgbImage(w, h, pixels);
        }
        return result;
    }

    /// <summary>Red (255, 60, 60) at the first frame to blue (60, 60, 255) at the last; white when time is not encoded.</summary>
    internal static (byte R, byte G, byte B) SquareColour(double progress, bool encodesTime) =>
        encodesTime
            ? (ClampByte(255 - 195 * progress), (byte)60, ClampByte(60 + 195 * progress))
            : ((byte)240, (byte)240, (byte)240);

    private static byte ClampByte(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);

    private static void Validate(MotionDatasetOptions o)
    {
        if (o.VideosPerClass < 1) throw new ArgumentOutOfRangeException(nameof(o.VideosPerClass), o.VideosPerClass, "At least one video per class is needed.");
        if (o.FrameCount < 1) throw new ArgumentOutOfRangeException(nameof(o.FrameCount), o.FrameCount, "Videos need at least one frame.");
        if (o.Width < 8 || o.Height < 8) throw new ArgumentOutOfRangeException(nameof(o.Width), $"{o.Width}x{o.Height}", "Frames must be at least 8x8 pixels.");
        if (!(o.FramesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(o.FramesPerSecond), o.FramesPerSecond, "The frame rate must be positive.");
        if (!(o.SquareFraction > 0 && o.SquareFraction < 1)) throw new ArgumentOutOfRangeException(nameof(o.SquareFraction), o.SquareFraction, "The square's size fraction must lie in (0, 1).");
        if (o.NoiseAmplitude is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(o.NoiseAmplitude), o.NoiseAmplitude, "The noise amplitude must lie in [0, 255].");
        if (o.Directions.Count == 0) throw new ArgumentException("At least one motion direction (class) is needed.", nameof(o.Directions));
        if (o.Directions.Distinct().Count() != o.Directions.Count) throw new ArgumentException("Each motion direction may appear only once.", nameof(o.Directions));
    }
}

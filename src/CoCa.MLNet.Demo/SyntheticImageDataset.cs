using SkiaSharp;

namespace CoCa.MLNet.Demo;

/// <summary>
/// Writes a small folder-per-class image dataset (PNG) for demos and tests: each class is a shape
/// (circle, square, triangle, cross, ring, bar) drawn at a random place, size and tint over a noisy background.
/// No download needed; the same seed gives the same files.
/// </summary>
public static class SyntheticImageDataset
{
    public static readonly string[] AllClasses = ["circle", "square", "triangle", "cross", "ring", "bar"];

    /// <summary>Writes <paramref name="perClass"/> images of each of the first <paramref name="classCount"/> classes under <paramref name="directory"/>/class/.</summary>
    public static IReadOnlyList<(string Path, string Label)> Generate(string directory, int classCount = 3, int perClass = 20, int width = 96, int height = 80, int seed = 0)
    {
        if (classCount < 1 || classCount > AllClasses.Length)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"Between 1 and {AllClasses.Length} classes.");
        if (perClass < 1) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "At least one image per class.");
        var rng = new Random(seed);
        var files = new List<(string, string)>();
        for (int c = 0; c < classCount; c++)
        {
            var label = AllClasses[c];
            var dir = Path.Combine(directory, label);
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perClass; i++)
            {
                var path = Path.Combine(dir, $"{label}_{i:D4}.png");
                using var bitmap = Draw(label, width, height, rng);
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                var tmp = path + ".tmp";
                using (var fs = File.Create(tmp)) data.SaveTo(fs);
                File.Move(tmp, path, overwrite: true);
                files.Add((path, label));
            }
        }
        return files;
    }

    private static SKBitmap Draw(string shape, int width, int height, Random rng)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[width * height * 4];
        for (int p = 0; p < width * height; p++)
        {
            byte v = (byte)rng.Next(40, 110);
            pixels[4 * p] = (byte)(v + rng.Next(0, 20));
            pixels[4 * p + 1] = v;
            pixels[4 * p + 2] = (byte)(v + rng.Next(0, 20));
            pixels[4 * p + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var canvas = new SKCanvas(bitmap);
        float size = Math.Min(width, height) * (0.35f + 0.3f * (float)rng.NextDouble());
        float cx = size / 2 + (float)rng.NextDouble() * (width - size);
        float cy = size / 2 + (float)rng.NextDouble() * (height - size);
        var tint = SKColor.FromHsv((float)rng.NextDouble() * 360, 60 + 40 * (float)rng.NextDouble(), 80 + 20 * (float)rng.NextDouble());
        using var paint = new SKPaint { Color = tint, IsAntialias = true, Style = SKPaintStyle.Fill };
        DrawShape(canvas, shape, cx, cy, size, paint);
        return bitmap;
    }

    /// <summary>Draws <paramref name="shape"/> (one of <see cref="AllClasses"/>) of side/diameter <paramref name="size"/> centred at (cx, cy).</summary>
    internal static void DrawShape(SKCanvas canvas, string shape, float cx, float cy, float size, SKPaint paint)
    {
        float r = size / 2;
        switch (shape)
        {
            case "circle": canvas.DrawCircle(cx, cy, r, paint); break;
            case "square": canvas.DrawRect(cx - r, cy - r, size, size, paint); break;
            case "triangle":
                using (var path = new SKPath())
                {
                    path.MoveTo(cx, cy - r); path.LineTo(cx + r, cy + r); path.LineTo(cx - r, cy + r); path.Close();
                    canvas.DrawPath(path, paint);
                }
                break;
            case "cross":
                canvas.DrawRect(cx - r, cy - r / 4, size, r / 2, paint);
                canvas.DrawRect(cx - r / 4, cy - r, r / 2, size, paint);
                break;
            case "ring":
                paint.Style = SKPaintStyle.Stroke; paint.StrokeWidth = r / 3;
                canvas.DrawCircle(cx, cy, r * 0.8f, paint);
                break;
            default:
                canvas.DrawRect(cx - r, cy - r / 6, size, r / 3, paint);
                break;
        }
    }
}
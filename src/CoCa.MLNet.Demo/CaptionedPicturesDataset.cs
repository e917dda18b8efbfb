using System.Globalization;
using SkiaSharp;

namespace CoCa.MLNet.Demo;

/// <summary>One generated picture and what its caption says about it.</summary>
public sealed record CaptionedPicture(string Path, string Caption, string Colour, string Shape, string Place);

/// <summary>
/// Writes captioned pictures for training a small CoCa from scratch: a shape (circle, square, triangle, cross) of a
/// colour (red, green, blue, yellow) at a place (left, right, top, bottom) over a noisy grey background, captioned
/// "a red circle on the left". Writes the PNGs under <c>images/</c> and <c>pairs.csv</c> (header <c>image,caption</c>,
/// paths relative to the CSV) — the format <c>coca finetune</c> reads. The same seed gives the same files.
/// </summary>
public static class CaptionedPicturesDataset
{
    public static readonly string[] Colours = ["red", "green", "blue", "yellow"];
    public static readonly string[] Shapes = ["circle", "square", "triangle", "cross"];
    public static readonly string[] Places = ["on the left", "on the right", "at the top", "at the bottom"];

    private static readonly SKColor[] ColourValues = [new(220, 40, 40), new(40, 190, 60), new(50, 80, 230), new(235, 215, 40)];

    /// <summary>The caption of a (colour, shape, place) combination.</summary>
    public static string Caption(string colour, string shape, string place) => $"a {colour} {shape} {place}";

    /// <summary>Every caption the generator can write (colours × shapes × places).</summary>
    public static IReadOnlyList<string> AllCaptions() =>
        Colours.SelectMany(c => Shapes.SelectMany(s => Places.Select(p => Caption(c, s, p)))).ToList();

    /// <summary>
    /// Writes <paramref name="count"/> pictures of <paramref name="size"/>² pixels with random colour, shape and place
    /// into <paramref name="directory"/> (<c>images/</c> and <c>pairs.csv</c>, or <paramref name="csvName"/>).
    /// </summary>
    public static IReadOnlyList<CaptionedPicture> Generate(string directory, int count, int size = 48, int seed = 0, string csvName = "pairs.csv")
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "At least one picture.");
        if (size < 16) throw new ArgumentOutOfRangeException(nameof(size), size, "Pictures need at least 16 pixels a side.");
        var rng = new Random(seed);
        var imageDir = Path.Combine(directory, "images");
        Directory.CreateDirectory(imageDir);
        var pictures = new List<CaptionedPicture>(count);
        var prefix = Path.GetFileNameWithoutExtension(csvName);
        for (int i = 0; i < count; i++)
        {
            string colour = Colours[rng.Next(Colours.Length)], shape = Shapes[rng.Next(Shapes.Length)], place = Places[rng.Next(Places.Length)];
            var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{i:D5}.png");
            var path = Path.Combine(imageDir, name);
            using (var bitmap = Draw(colour, shape, place, size, rng))
            using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
            using (var fs = File.Create(path))
                data.SaveTo(fs);
            pictures.Add(new CaptionedPicture(path, Caption(colour, shape, place), colour, shape, place));
        }
        File.WriteAllLines(Path.Combine(directory, csvName),
            new[] { "image,caption" }.Concat(pictures.Select(p => $"images/{Path.GetFileName(p.Path)},{p.Caption}")));
        return pictures;
    }

    private static SKBitmap Draw(string colour, string shape, string place, int size, Random rng)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[size * size * 4];
        for (int p = 0; p < size * size; p++)
        {
            byte v = (byte)rng.Next(90, 150);
            pixels[4 * p] = pixels[4 * p + 1] = pixels[4 * p + 2] = v;
            pixels[4 * p + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var canvas = new SKCanvas(bitmap);
        float shapeSize = size * (0.32f + 0.1f * (float)rng.NextDouble());
        float half = size / 2f, quarter = size / 4f, jitter = size / 16f;
        float along = half + ((float)rng.NextDouble() * 2 - 1) * jitter * 2;
        float offset = quarter + ((float)rng.NextDouble() * 2 - 1) * jitter;
        var (cx, cy) = place switch
        {
            "on the left" => (offset, along),
            "on the right" => (size - offset, along),
            "at the top" => (along, offset),
            _ => (along, size - offset),
        };
        var baseColour = ColourValues[Array.IndexOf(Colours, colour)];
        int j() => rng.Next(-20, 21);
        var tint = new SKColor((byte)Math.Clamp(baseColour.Red + j(), 0, 255), (byte)Math.Clamp(baseColour.Green + j(), 0, 255), (byte)Math.Clamp(baseColour.Blue + j(), 0, 255));
        using var paint = new SKPaint { Color = tint, IsAntialias = true, Style = SKPaintStyle.Fill };
        SyntheticImageDataset.DrawShape(canvas, shape, cx, cy, shapeSize, paint);
        return bitmap;
    }
}

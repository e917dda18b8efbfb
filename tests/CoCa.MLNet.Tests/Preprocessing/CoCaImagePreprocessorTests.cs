using CoCa.MLNet.Cli.Features;
using System.Text.Json;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Preprocessing;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Preprocessing;

public class CoCaImagePreprocessorTests(ITestOutputHelper output)
{
    private static readonly Lazy<(string[] Names, PreprocessConfig Config)> Reference = new(LoadReference);

    public static TheoryData<int> FixtureImages => new() { 0, 1, 2, 3, 4, 5 };

    private static (string[] Names, PreprocessConfig Config) LoadReference()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixtures.Tiny("reference.json")));
        var names = reference.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();
        using var config = JsonDocument.Parse(File.ReadAllText(Fixtures.Tiny("open_clip_config.json")));
        var pre = config.RootElement.GetProperty("preprocess_cfg");
        return (names, new PreprocessConfig
        {
            ImageSize = config.RootElement.GetProperty("model_cfg").GetProperty("vision_cfg").GetProperty("image_size").GetInt32(),
            Mean = pre.GetProperty("mean").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(),
            Std = pre.GetProperty("std").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(),
            Interpolation = pre.GetProperty("interpolation").GetString()!,
            ResizeMode = pre.GetProperty("resize_mode").GetString()!,
        });
    }

    [FixtureTheory]
    [MemberData(nameof(FixtureImages))]
    public void MatchesOpenClipReferencePixels(int index)
    {
        var (names, config) = Reference.Value;
        var preprocessor = new CoCaImagePreprocessor(config);
        int n = preprocessor.OutputLength;
        var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        Assert.Equal([names.Length, 3L, 64L, 64L], expected.Shape);

        var actual = new float[n];
        preprocessor.Preprocess(Fixtures.Tiny("images/" + names[index]), actual);

        // One 8-bit level in normalized units is 1/255/std of the channel.
        int plane = n / 3;
        double maxLevels = 0;
        int differing = 0;
        for (int i = 0; i < n; i++)
        {
            float e = expected.Data[index * n + i];
            if (actual[i] != e) differing++;
            maxLevels = Math.Max(maxLevels, Math.Abs(actual[i] - e) * 255.0 * config.Std[i / plane]);
        }
        output.WriteLine($"{names[index]}: max |Δ| = {maxLevels:G4} 8-bit levels, {differing} of {n} floats differ");
        Assert.True(maxLevels <= 1.0, $"{names[index]}: max |Δ| {maxLevels:G4} levels exceeds one 8-bit level");
        Assert.True(differing == 0, $"{names[index]}: {differing} floats differ from open_clip (max {maxLevels:G4} levels); expected bit-exact");
    }

    [FixtureFact]
    public void DecodedImageFileAndMLImageInputsAgree()
    {
        var (names, config) = Reference.Value;
        var preprocessor = new CoCaImagePreprocessor(config);
        foreach (var name in names)
        {
            var path = Fixtures.Tiny("images/" + name);
            var fromPath = preprocessor.Preprocess(path);
            var fromRgb = preprocessor.Preprocess(ImageDecoder.Decode(path));
            using var mlImage = MLImage.CreateFromFile(path);
            var fromMl = new float[preprocessor.OutputLength];
            preprocessor.Preprocess(mlImage, fromMl);
            Assert.Equal(fromPath, fromRgb);
            Assert.Equal(fromPath, fromMl);
        }
    }

    [FixtureFact]
    public void ConcurrentCallsGiveTheSameResultsAsSequentialOnes()
    {
        var (names, config) = Reference.Value;
        var preprocessor = new CoCaImagePreprocessor(config);
        var images = names.Select(n => ImageDecoder.Decode(Fixtures.Tiny("images/" + n))).ToArray();
        var sequential = images.Select(preprocessor.Preprocess).ToArray();
        var parallel = new float[images.Length * 8][];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var chw = new float[preprocessor.OutputLength];
            preprocessor.Preprocess(images[i % images.Length], chw);
            parallel[i] = chw;
        });
        for (int i = 0; i < parallel.Length; i++)
            Assert.Equal(sequential[i % images.Length], parallel[i]);
    }

    [Fact]
    public void RgbaPixelsThatResizeToZeroAlphaComeOutBlackLikePil()
    {
        // open_clip resizes before convert("RGB"), and PIL resizes RGBA premultiplied: a fully transparent image
        // becomes black once resized, however it was coloured; unresized, convert("RGB") keeps the stored colour.
        var rgba = Enumerable.Repeat(new byte[] { 200, 100, 50, 0 }, 4).SelectMany(p => p).ToArray();
        var png = TestImages.RgbaPng(2, 2, rgba);

        var resized = Preprocessor(4).PreprocessToArray(ImageDecoder.DecodeKeepingMode(png));
        Assert.Equal(Preprocessor(4).Preprocess(Solid(2, 2, 0, 0, 0)), resized);

        var kept = Preprocessor(2).PreprocessToArray(ImageDecoder.DecodeKeepingMode(png));
        Assert.Equal(Preprocessor(2).Preprocess(Solid(2, 2, 200, 100, 50)), kept);
    }

    [Fact]
    public void PaletteImagesAreResizedWithNearestNeighbour()
    {
        // 4x4 palette image of 16 colours, squashed to 2x2: PIL forces NEAREST for mode "P", which samples source
        // positions 1 and 3 on each axis (centres at 1.0 and 3.0).
        var palette = new byte[48];
        for (int i = 0; i < 16; i++)
        {
            palette[i * 3] = (byte)(i * 16);
            palette[i * 3 + 1] = (byte)(255 - i * 16);
            palette[i * 3 + 2] = (byte)(i * 7);
        }
        var indices = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var decoded = ImageDecoder.DecodeKeepingMode(TestImages.PalettePng(4, 4, indices, palette));
        var squash = Preprocessor(2, resizeMode: "squash");

        var actual = new float[12];
        squash.Preprocess(decoded, actual);

        byte[] picked = [.. Colour(palette, 5), .. Colour(palette, 7), .. Colour(palette, 13), .. Colour(palette, 15)];
        Assert.Equal(squash.Preprocess(new RgbImage(2, 2, picked)), actual);
        // Resizing the RGB conversion with bicubic (what a convert-first pipeline would do) gives something else.
        Assert.NotEqual(squash.Preprocess(decoded.ToRgb()), actual);
    }

    [Fact]
    public void LongestPadsWithFillZeroInTheImagesOwnMode()
    {
        // 4x2 at S=4, resize_mode 'longest': no resize, one padded row above and below ((4 − 2)//2 = 1).
        var rgb = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray();
        var longest = Preprocessor(4, resizeMode: "longest");
        var expected = new byte[48];
        rgb.CopyTo(expected, 12);
        Assert.Equal(Preprocessor(4).Preprocess(new RgbImage(4, 4, expected)), longest.Preprocess(new RgbImage(4, 2, rgb)));

        // For a palette image fill 0 is palette index 0, so the padding takes palette entry 0's colour.
        byte[] palette = [30, 60, 90, 255, 255, 255];
        var decoded = ImageDecoder.DecodeKeepingMode(TestImages.PalettePng(4, 2, [1, 1, 1, 1, 1, 1, 1, 1], palette));
        var padded = new byte[48];
        for (int p = 0; p < 16; p++)
            (p is >= 4 and < 12 ? new byte[] { 255, 255, 255 } : new byte[] { 30, 60, 90 }).CopyTo(padded, p * 3);
        var actual = new float[48];
        longest.Preprocess(decoded, actual);
        Assert.Equal(Preprocessor(4).Preprocess(new RgbImage(4, 4, padded)), actual);
    }

    [Fact]
    public void NormalizesEachByteAsTorchDoesInFloat32()
    {
        // ToTensor then Normalize in float32: ((v / 255) − mean) / std, each step rounded to float.
        var p = Preprocessor(1);
        var chw = p.Preprocess(new RgbImage(1, 1, [0, 128, 255]));
        Assert.Equal((0f / 255f - 0.48145466f) / 0.26862954f, chw[0]);
        Assert.Equal((128f / 255f - 0.4578275f) / 0.26130258f, chw[1]);
        Assert.Equal((255f / 255f - 0.40821073f) / 0.27577711f, chw[2]);
    }

    [Fact]
    public void BadConfigurationAndOutputSpansAreRefused()
    {
        Assert.Throws<NotSupportedException>(() => new CoCaImagePreprocessor(new PreprocessConfig { Interpolation = "nearest" }));
        Assert.Throws<NotSupportedException>(() => new CoCaImagePreprocessor(new PreprocessConfig { ResizeMode = "crop" }));
        var ex = Assert.Throws<ArgumentException>(() => new CoCaImagePreprocessor(new PreprocessConfig { Std = [0.2f, 0f, 0.3f] }));
        Assert.Contains("std", ex.Message);
        Assert.Throws<ArgumentException>(() => new CoCaImagePreprocessor(new PreprocessConfig { Mean = [0.5f] }));
        Assert.Throws<ArgumentException>(() => new CoCaImagePreprocessor(new PreprocessConfig { ImageSize = 0 }));

        var p = Preprocessor(8);
        ex = Assert.Throws<ArgumentException>(() => p.Preprocess(Solid(3, 3, 1, 2, 3), new float[100]));
        Assert.Contains("192", ex.Message);
    }

    private static CoCaImagePreprocessor Preprocessor(int size, string resizeMode = "shortest")
        => new(new PreprocessConfig { ImageSize = size, ResizeMode = resizeMode });

    private static RgbImage Solid(int width, int height, byte r, byte g, byte b)
        => new(width, height, Enumerable.Repeat(new[] { r, g, b }, width * height).SelectMany(p => p).ToArray());

    private static byte[] Colour(byte[] palette, int index) => palette.AsSpan(index * 3, 3).ToArray();
}

internal static class PreprocessorTestExtensions
{
    /// <summary>Runs the span overload into a new array, for one-line assertions.</summary>
    public static float[] PreprocessToArray(this CoCaImagePreprocessor preprocessor, DecodedImage image)
    {
        var chw = new float[preprocessor.OutputLength];
        preprocessor.Preprocess(image, chw);
        return chw;
    }
}

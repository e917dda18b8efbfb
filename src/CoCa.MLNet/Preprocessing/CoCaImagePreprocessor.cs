using System.Buffers;
using CoCa.MLNet.Configuration;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// open_clip's eval image transform, reproduced bit for bit on the 8-bit pipeline (torchvision 0.14 on Pillow):
/// Resize (PIL, mode-aware: see <see cref="PilImageMode"/>) → CenterCrop (or pad) → convert("RGB") → ToTensor (/255 in
/// float32) → Normalize ((x − mean) / std in float32). Output is planar [3, S, S] float32.
/// Immutable and thread-safe: call it from as many threads as you like.
/// </summary>
internal sealed class CoCaImagePreprocessor
{
    private readonly float[][] _lookup;

    public CoCaImagePreprocessor(PreprocessConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.ImageSize <= 0)
            throw new ArgumentException($"Preprocessing image size must be positive, got {config.ImageSize}.", nameof(config));
        if (config.Mean is not { Length: 3 } || config.Std is not { Length: 3 })
            throw new ArgumentException($"Preprocessing mean and std need 3 values (R, G, B); got {config.Mean?.Length ?? 0} and {config.Std?.Length ?? 0}.", nameof(config));
        if (config.Std.Any(s => s == 0f || !float.IsFinite(s)) || config.Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"Preprocessing mean/std must be finite and std non-zero; got mean [{string.Join(", ", config.Mean)}], std [{string.Join(", ", config.Std)}].", nameof(config));

        ImageSize = config.ImageSize;
        Filter = ResamplingFilters.FromOpenClipName(config.Interpolation);
        ResizeMode = OpenClipResizeModes.FromOpenClipName(config.ResizeMode);
        Mean = Array.AsReadOnly((float[])config.Mean.Clone());
        Std = Array.AsReadOnly((float[])config.Std.Clone());

        // Every output value is a function of one byte and the channel: tabulate ToTensor + Normalize with torch's
        // float32 operations in torch's order (x / 255, then − mean, then / std; no reciprocal multiply).
        _lookup = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            _lookup[c] = new float[256];
            for (int v = 0; v < 256; v++)
            {
                float x = v / 255f;
                x -= Mean[c];
                _lookup[c][v] = x / Std[c];
            }
        }
    }

    /// <summary>Output side S in pixels.</summary>
    public int ImageSize { get; }
    public ResamplingFilter Filter { get; }
    public OpenClipResizeMode ResizeMode { get; }
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    /// <summary>Floats one image produces: 3·S·S.</summary>
    public int OutputLength => 3 * ImageSize * ImageSize;

    /// <summary>Preprocesses an RGB image (PIL mode "RGB") into <paramref name="chw"/> ([3, S, S], planar).</summary>
    public void Preprocess(RgbImage image, Span<float> chw)
    {
        ArgumentNullException.ThrowIfNull(image);
        Run(image.Pixels, image.Width, image.Height, 3, PilImageMode.Rgb, default, chw);
    }

    /// <summary>Preprocesses a decoded image, resizing it as PIL would for its mode family.</summary>
    public void Preprocess(DecodedImage image, Span<float> chw)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.IntegerGrey is { } grey && Filter is ResamplingFilter.Bilinear or ResamplingFilter.Bicubic)
        {
            // PIL mode "I": resized as integers, then convert("RGB") clips (CenterCrop in between moves no value).
            var geometry = PreprocessGeometry.For(image.Width, image.Height, ImageSize, ResizeMode);
            bool resizes = geometry.ResizedWidth != image.Width || geometry.ResizedHeight != image.Height;
            var resized = resizes ? PilResize.ResizeInteger(grey, image.Width, image.Height, geometry.ResizedWidth, geometry.ResizedHeight, Filter) : grey;
            var rgb = new byte[geometry.ResizedWidth * geometry.ResizedHeight * 3];
            for (int i = 0; i < resized.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = PilConvert.Clip8(resized[i]);
            Run(rgb, geometry.ResizedWidth, geometry.ResizedHeight, 3, PilImageMode.Rgb, default, chw);
            return;
        }
        // (Nearest picks pixels, so clipping first, as Rgba holds them, gives PIL's result for mode "I" too.)
        Run(image.Rgba, image.Width, image.Height, 4, image.Mode, image.FillColor, chw);
    }

    /// <summary>Decodes an image file (<see cref="ImageDecoder.DecodeKeepingMode(string)"/>) and preprocesses it.</summary>
    public void Preprocess(string path, Span<float> chw) => Preprocess(ImageDecoder.DecodeKeepingMode(path), chw);

    /// <summary>Decodes encoded image bytes and preprocesses them; <paramref name="name"/> names them in errors.</summary>
    public void Preprocess(byte[] encoded, Span<float> chw, string? name = null) => Preprocess(ImageDecoder.DecodeKeepingMode(encoded, name), chw);

    /// <summary>Preprocesses an ML.NET image, taken as RGB (see <see cref="ImageDecoder.FromMLImage"/>).</summary>
    public void Preprocess(MLImage image, Span<float> chw, MLImageAlpha alpha = MLImageAlpha.Premultiplied)
        => Preprocess(ImageDecoder.FromMLImage(image, alpha), chw);

    /// <summary>Preprocesses an image file into a new [3, S, S] array.</summary>
    public float[] Preprocess(string path)
    {
        var result = new float[OutputLength];
        Preprocess(path, result);
        return result;
    }

    /// <summary>Preprocesses an RGB image into a new [3, S, S] array.</summary>
    public float[] Preprocess(RgbImage image)
    {
        var result = new float[OutputLength];
        Preprocess(image, result);
        return result;
    }

    private void Run(ReadOnlySpan<byte> pixels, int width, int height, int channels, PilImageMode mode, (byte R, byte G, byte B) fill, Span<float> chw)
    {
        int size = ImageSize;
        int plane = size * size;
        if (chw.Length != 3 * plane)
            throw new ArgumentException($"The output span holds {chw.Length} floats; a [3, {size}, {size}] image needs {3 * plane}.", nameof(chw));

        var geometry = PreprocessGeometry.For(width, height, size, ResizeMode);
        var kept = geometry.Source;
        bool resizes = geometry.ResizedWidth != width || geometry.ResizedHeight != height;
        int keptBytes = kept.Width * kept.Height * channels;
        byte[] keptBuffer = ArrayPool<byte>.Shared.Rent(keptBytes);
        byte[]? premultiplied = null;
        try
        {
            var keptPixels = keptBuffer.AsSpan(0, keptBytes);
            if (mode == PilImageMode.Rgba && resizes)
            {
                // PIL resizes RGBA as premultiplied RGBa and converts back (only when the size changes).
                premultiplied = ArrayPool<byte>.Shared.Rent(pixels.Length);
                var pre = premultiplied.AsSpan(0, pixels.Length);
                PilConvert.Premultiply(pixels, pre);
                PilResize.ResizeRegion(pre, width, height, 4, geometry.ResizedWidth, geometry.ResizedHeight, Filter, kept, keptPixels);
                PilConvert.Unpremultiply(keptPixels);
            }
            else
            {
                var filter = mode == PilImageMode.Palette ? ResamplingFilter.Nearest : Filter;
                PilResize.ResizeRegion(pixels, width, height, channels, geometry.ResizedWidth, geometry.ResizedHeight, filter, kept, keptPixels);
            }

            // Padding (resize_mode 'longest') is PIL fill 0 in the image's own mode: black, or palette entry 0.
            if (kept.Width < size || kept.Height < size)
            {
                chw[..plane].Fill(_lookup[0][fill.R]);
                chw.Slice(plane, plane).Fill(_lookup[1][fill.G]);
                chw.Slice(2 * plane, plane).Fill(_lookup[2][fill.B]);
            }

            float[] red = _lookup[0], green = _lookup[1], blue = _lookup[2];
            var r = chw[..plane];
            var g = chw.Slice(plane, plane);
            var b = chw.Slice(2 * plane, plane);
            for (int y = 0; y < kept.Height; y++)
            {
                var row = keptPixels.Slice(y * kept.Width * channels, kept.Width * channels);
                int o = (geometry.OffsetY + y) * size + geometry.OffsetX;
                for (int x = 0, p = 0; x < kept.Width; x++, p += channels)
                {
                    r[o + x] = red[row[p]];
                    g[o + x] = green[row[p + 1]];
                    b[o + x] = blue[row[p + 2]];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(keptBuffer);
            if (premultiplied is not null) ArrayPool<byte>.Shared.Return(premultiplied);
        }
    }
}

using CoCa.MLNet.Configuration;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Video;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Classification;

/// <summary>What the fine-tuning loop feeds the model for a batch of example rows.</summary>
internal interface IExampleBatches
{
    /// <summary>
    /// The model input of <paramref name="rows"/>: pixels [B·F, 3, S, S] (<see cref="FineTunedCoCaModule.forward"/>) or, for
    /// partial fine-tuning, the frozen blocks' output [B·F, T, D] (<see cref="FineTunedCoCaModule.FromLowerBlocks"/>).
    /// <paramref name="training"/>: augment, when augmentation is on.
    /// </summary>
    Tensor Load(ReadOnlySpan<int> rows, bool training);

    /// <summary>True when <see cref="Load"/> gives the frozen blocks' output rather than pixels.</summary>
    bool GivesLowerBlocks { get; }
}

/// <summary>
/// Decodes and preprocesses examples as the featurizers do (open_clip's exact preprocessing; video frames sampled
/// uniformly by ffmpeg), every time a batch is loaded, on all cores; optionally augments the preprocessed pixels.
/// </summary>
internal sealed class PixelBatches : IExampleBatches
{
    private readonly IReadOnlyList<object> _inputs;
    private readonly CoCaImagePreprocessor _preprocessor;
    private readonly VideoReader? _video;
    private readonly int _frames;
    private readonly Device _device;
    private readonly Random? _augment;

    /// <param name="inputs">Per example: an image path, a <see cref="RgbImage"/>/<see cref="DecodedImage"/>, or (video) a video path.</param>
    /// <param name="config">The model's configuration (image size and preprocessing).</param>
    /// <param name="frameCount">Frames per video; null for images.</param>
    /// <param name="device">Where the batches go.</param>
    /// <param name="augmentSeed">Seed of the random crops and flips; null: no augmentation.</param>
    public PixelBatches(IReadOnlyList<object> inputs, CoCaModelConfig config, int? frameCount, Device device, int? augmentSeed)
    {
        _inputs = inputs;
        _preprocessor = new CoCaImagePreprocessor(config.Preprocess with { ImageSize = config.Vision.ImageSize });
        _frames = frameCount ?? 1;
        _video = frameCount is null ? null : new VideoReader();
        _device = device;
        _augment = augmentSeed is int seed ? new Random(seed) : null;
    }

    public bool GivesLowerBlocks => false;

    private int PixelsPerImage => _preprocessor.OutputLength;

    /// <summary>Preprocessed pixels of the examples (frames back to back), float32, on the CPU.</summary>
    public float[] Pixels(ReadOnlySpan<int> rows)
    {
        int per = PixelsPerImage, n = rows.Length;
        var pixels = new float[(long)n * _frames * per];
        var examples = rows.ToArray();
        if (_video is null)
        {
            Parallel.For(0, n, i => Preprocess(_inputs[examples[i]], pixels.AsSpan(i * per, per)));
        }
        else
        {
            // One ffmpeg process per video, two at a time (as the video featurizer), then the frames on all cores.
            var sampled = new SampledFrames[n];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => sampled[i] = _video.SampleFrames((string)_inputs[examples[i]], _frames));
            Parallel.For(0, n * _frames, k => _preprocessor.Preprocess(sampled[k / _frames].Frames[k % _frames], pixels.AsSpan(k * per, per)));
        }
        return pixels;
    }

    public Tensor Load(ReadOnlySpan<int> rows, bool training)
    {
        int s = _preprocessor.ImageSize;
        var pixels = Pixels(rows);
        using var cpu = torch.tensor(pixels, [rows.Length * (long)_frames, 3, s, s]);
        if (training && _augment is not null) Augment(cpu, rows.Length);
        return cpu.to(_device);
    }

    private void Preprocess(object input, Span<float> target)
    {
        switch (input)
        {
            case string path: _preprocessor.Preprocess(ImageDecoder.DecodeKeepingMode(path), target); break;
            case RgbImage rgb: _preprocessor.Preprocess(rgb, target); break;
            case DecodedImage decoded: _preprocessor.Preprocess(decoded, target); break;
            default: throw new ArgumentException($"Cannot read a {input?.GetType().Name ?? "null"} as an image; expected a path or an image.");
        }
    }

    /// <summary>
    /// In place, per example (all its frames alike): a random crop of 60–100 % of the area with aspect 3:4 to 4:3,
    /// resized back to S×S (bilinear), and a horizontal flip half the time.
    /// </summary>
    private void Augment(Tensor pixels, int examples)
    {
        long s = pixels.shape[2];
        using var _ = torch.no_grad();
        for (int e = 0; e < examples; e++)
        {
            double area = 0.6 + 0.4 * _augment!.NextDouble();
            double aspect = Math.Exp(Math.Log(0.75) + (Math.Log(4.0 / 3) - Math.Log(0.75)) * _augment.NextDouble());
            long w = Math.Clamp((long)Math.Round(s * Math.Sqrt(area * aspect)), 8, s);
            long h = Math.Clamp((long)Math.Round(s * Math.Sqrt(area / aspect)), 8, s);
            long x = (long)(_augment.NextDouble() * (s - w + 1)), y = (long)(_augment.NextDouble() * (s - h + 1));
            bool flip = _augment.NextDouble() < 0.5;
            using var scope = NewDisposeScope();
            var frames = pixels.narrow(0, e * (long)_frames, _frames);
            var crop = frames.narrow(2, y, h).narrow(3, x, w);
            var resized = nn.functional.interpolate(crop, [s, s], mode: InterpolationMode.Bilinear, align_corners: false);
            if (flip) resized = resized.flip(3);
            frames.copy_(resized);
        }
    }
}

/// <summary>The frozen blocks' outputs, computed once per example and kept in float16 (<see cref="FeatureStore"/>).</summary>
internal sealed class LowerBlockBatches(FeatureStore store, int maxBatch, Device device) : IExampleBatches
{
    private readonly TokenBatchLoader _loader = new(store, maxBatch, device);

    public bool GivesLowerBlocks => true;

    public Tensor Load(ReadOnlySpan<int> rows, bool training)
    {
        using var tokens = _loader.Load(rows);   // [B, F·T, D]
        var shape = store.Shape;
        return tokens.reshape(rows.Length * (long)shape.Frames, shape.TokensPerFrame, shape.Dim);
    }
}

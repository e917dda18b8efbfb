using CoCa.MLNet.Conversion;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Images → CoCa features, outside ML.NET: open_clip preprocessing (in parallel across the batch) and one
/// encoder call per batch. The ML.NET featurizers, the video featurizer and the CLI all run through it.
/// </summary>
public sealed class CoCaImageFeatureExtractor : IDisposable
{
    private readonly CoCaImagePreprocessor _preprocessor;

    public CoCaImageFeatureExtractor(CoCaVisionEncoder encoder)
    {
        Encoder = encoder;
        _preprocessor = new CoCaImagePreprocessor(encoder.Config.Preprocess with { ImageSize = encoder.Config.Vision.ImageSize });
    }

    /// <summary>Opens the vision model of a converted model folder.</summary>
    public static CoCaImageFeatureExtractor Open(string modelPath, OnnxExecutionOptions? options = null)
    {
        var model = ConvertedModel.Open(modelPath);
        return new CoCaImageFeatureExtractor(new CoCaVisionEncoder(File.ReadAllBytes(model.VisionModelPath), model.Config, options));
    }

    public CoCaVisionEncoder Encoder { get; }

    /// <summary>Features of images produced by <paramref name="images"/> (decoders run in parallel).</summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<Func<RgbImage>> images, bool tokens, bool embeddings)
    {
        if (images.Count == 0) return (tokens ? [] : null, embeddings ? [] : null);
        int per = Encoder.PixelsPerImage;
        var pixels = new float[images.Count * per];
        Parallel.For(0, images.Count, i => _preprocessor.Preprocess(images[i](), pixels.AsSpan(i * per, per)));
        return Encoder.Run(pixels, images.Count, tokens, embeddings);
    }

    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<string> imagePaths, bool tokens, bool embeddings) =>
        Extract(imagePaths.Select(p => (Func<RgbImage>)(() => ImageDecoder.Decode(p))).ToList(), tokens, embeddings);

    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<RgbImage> images, bool tokens, bool embeddings) =>
        Extract(images.Select(im => (Func<RgbImage>)(() => im)).ToList(), tokens, embeddings);

    public void Dispose() => Encoder.Dispose();
}

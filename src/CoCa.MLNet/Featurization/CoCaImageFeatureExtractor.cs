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

    /// <summary>Features of image files (decoded and preprocessed in parallel; one encoder call).</summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<string> imagePaths, bool tokens, bool embeddings) =>
        Extract(imagePaths.Cast<object>().ToList(), tokens, embeddings);

    /// <summary>Features of decoded RGB images (e.g. video frames).</summary>
    public (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<RgbImage> images, bool tokens, bool embeddings) =>
        Extract(images.Cast<object>().ToList(), tokens, embeddings);

    /// <summary>
    /// Features of a mix of inputs: file paths (decoded keeping PIL's image mode, so RGBA and palette images are
    /// resized as open_clip resizes them), <see cref="RgbImage"/>s and <see cref="DecodedImage"/>s.
    /// </summary>
    internal (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<object> inputs, bool tokens, bool embeddings)
    {
        if (inputs.Count == 0) return (tokens ? [] : null, embeddings ? [] : null);
        return Encoder.Run(Preprocess(inputs), inputs.Count, tokens, embeddings);
    }

    /// <summary>The captioner's input, caption tokens [N, n_queries−1, E], of the same kinds of inputs as <see cref="Extract(IReadOnlyList{object}, bool, bool)"/>.</summary>
    internal float[] ExtractCaptionTokens(IReadOnlyList<object> inputs) =>
        inputs.Count == 0 ? [] : Encoder.RunCaptionTokens(Preprocess(inputs), inputs.Count);

    private float[] Preprocess(IReadOnlyList<object> inputs)
    {
        int per = Encoder.PixelsPerImage;
        var pixels = new float[inputs.Count * per];
        Parallel.For(0, inputs.Count, i =>
        {
            var target = pixels.AsSpan(i * per, per);
            switch (inputs[i])
            {
                case string path: _preprocessor.Preprocess(ImageDecoder.DecodeKeepingMode(path), target); break;
                case RgbImage rgb: _preprocessor.Preprocess(rgb, target); break;
                case DecodedImage decoded: _preprocessor.Preprocess(decoded, target); break;
                default: throw new ArgumentException($"Cannot featurize a {inputs[i]?.GetType().Name ?? "null"}; expected an image path or an RgbImage.");
            }
        });
        return pixels;
    }

    public void Dispose() => Encoder.Dispose();
}

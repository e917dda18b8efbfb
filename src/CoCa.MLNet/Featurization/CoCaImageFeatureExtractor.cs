using CoCa.MLNet.Conversion;
using CoCa.MLNet.Transforms;
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

    internal CoCaImageFeatureExtractor(CoCaVisionEncoder encoder)
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

    internal CoCaVisionEncoder Encoder { get; }

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
    internal (float[]? Tokens, float[]? Embeddings) Extract(IReadOnlyList<object> inputs, bool tokens, bool embeddings) =>
        Encode(Preprocess(inputs, CpuBudget.AvailableCores), tokens, embeddings);

    /// <summary>
    /// Features of many batches of image files, pipelined: the next batch is decoded and preprocessed (on
    /// <see cref="CoCaVisionEncoder.OverlappingThreads"/> threads) while ONNX Runtime encodes this one. Results come
    /// in the order of the batches; at most three batches of pixels are held at once.
    /// </summary>
    public IEnumerable<(float[]? Tokens, float[]? Embeddings)> ExtractBatches(IEnumerable<IReadOnlyList<string>> batches, bool tokens, bool embeddings) =>
        Prefetch.Ahead(batches.Select(b => Preprocess(b.Cast<object>().ToList(), Encoder.OverlappingThreads)))
            .Select(p => Encode(p, tokens, embeddings));

    /// <summary>
    /// Like <see cref="ExtractBatches"/>, but an input that cannot be read (corrupt, empty, missing) does not end the
    /// run: its batch is encoded without it, and <see cref="ReadableBatch.Unreadable"/> says why (naming it). Any other
    /// failure (the model, the machine) still throws.
    /// </summary>
    internal IEnumerable<ReadableBatch> ExtractReadableBatches(IEnumerable<IReadOnlyList<string>> batches, bool tokens, bool embeddings) =>
        Prefetch.Ahead(batches.Select(b => PreprocessReadable(b.Cast<object>().ToList(), Encoder.OverlappingThreads)))
            .Select(p =>
            {
                var (t, e) = Encode(p.Images, tokens, embeddings);
                return new ReadableBatch(p.Kept, p.Unreadable, t, e);
            });

    /// <summary>Decodes and preprocesses a batch (the CPU half of <see cref="Extract(IReadOnlyList{object}, bool, bool)"/>).</summary>
    internal PreparedImages Preprocess(IReadOnlyList<object> inputs, int threads)
    {
        int per = Encoder.PixelsPerImage;
        var pixels = new float[inputs.Count * per];
        Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            i => PreprocessOne(inputs[i], pixels.AsSpan(i * per, per)));
        return new PreparedImages(pixels, inputs.Count);
    }

    /// <summary>
    /// <see cref="Preprocess"/> that leaves out the inputs that cannot be read: the readable ones packed in order
    /// (<see cref="ReadableImages.Kept"/>: their indices in <paramref name="inputs"/>), the others with why.
    /// </summary>
    internal ReadableImages PreprocessReadable(IReadOnlyList<object> inputs, int threads)
    {
        int per = Encoder.PixelsPerImage;
        var pixels = new float[inputs.Count * per];
        var errors = new Exception?[inputs.Count];
        Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            try { PreprocessOne(inputs[i], pixels.AsSpan(i * per, per)); }
            catch (Exception e) when (InputErrors.IsBadInput(e)) { errors[i] = e; }
        });
        var kept = Enumerable.Range(0, inputs.Count).Where(i => errors[i] is null).ToArray();
        for (int k = 0; k < kept.Length; k++)
            if (kept[k] != k) Array.Copy(pixels, kept[k] * per, pixels, k * per, per);   // kept[k] >= k: packing forward is safe
        var unreadable = Enumerable.Range(0, inputs.Count).Where(i => errors[i] is not null)
            .Select(i => new UnreadableInput(i, InputErrors.Unwrap(errors[i]!).Message.ReplaceLineEndings(" "))).ToList();
        return new ReadableImages(new PreparedImages(pixels, kept.Length), kept, unreadable);
    }

    private void PreprocessOne(object input, Span<float> target)
    {
        switch (input)
        {
            case string path: _preprocessor.Preprocess(ImageDecoder.DecodeKeepingMode(path), target); break;
            case RgbImage rgb: _preprocessor.Preprocess(rgb, target); break;
            case DecodedImage decoded: _preprocessor.Preprocess(decoded, target); break;
            default: throw new ArgumentException($"Cannot featurize a {input?.GetType().Name ?? "null"}; expected an image path or an RgbImage.");
        }
    }

    /// <summary>The captioner's input, caption tokens [N, n_queries−1, E], of the same kinds of inputs as <see cref="Extract(IReadOnlyList{object}, bool, bool)"/>.</summary>
    internal float[] ExtractCaptionTokens(IReadOnlyList<object> inputs) =>
        inputs.Count == 0 ? [] : Encoder.RunCaptionTokens(Preprocess(inputs, CpuBudget.AvailableCores).Pixels, inputs.Count);

    /// <summary>Runs the encoder on a preprocessed batch (the ONNX Runtime half).</summary>
    internal (float[]? Tokens, float[]? Embeddings) Encode(PreparedImages batch, bool tokens, bool embeddings) =>
        batch.Count == 0 ? (tokens ? [] : null, embeddings ? [] : null) : Encoder.Run(batch.Pixels, batch.Count, tokens, embeddings);

    public void Dispose() => Encoder.Dispose();
}

/// <summary>A preprocessed batch: <see cref="Count"/> planar [3,S,S] images back to back.</summary>
internal sealed record PreparedImages(float[] Pixels, int Count);

/// <summary>An input of a batch that could not be read: its index in the batch and why, naming it.</summary>
internal sealed record UnreadableInput(int Index, string Reason);

/// <summary>The readable inputs of a batch, preprocessed (<see cref="Kept"/>: their indices in the batch), and the others.</summary>
internal sealed record ReadableImages(PreparedImages Images, int[] Kept, IReadOnlyList<UnreadableInput> Unreadable);

/// <summary>Features of a batch's readable inputs (<see cref="Kept"/>: their indices in the batch, in order) and why the others could not be read.</summary>
internal sealed record ReadableBatch(int[] Kept, IReadOnlyList<UnreadableInput> Unreadable, float[]? Tokens, float[]? Embeddings);

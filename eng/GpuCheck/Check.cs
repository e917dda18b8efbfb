using System.Diagnostics;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Scoring;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.GpuCheck;

/// <summary>The measurements of the GPU check; each runs the library's own code paths on one device.</summary>
internal static class Check
{
    public const int Batch = 32;

    public sealed record Result(float[] Tokens, float[] Embeddings, double ImagesPerSecond);

    public sealed record Captions(long[][] Ids, double PerSecond);

    /// <summary>Null when the vision model runs on CUDA; else why not, in one line.</summary>
    public static string? WhyNoCuda(ConvertedModel model, OnnxExecutionOptions cuda)
    {
        if (!OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
            return "this ONNX Runtime has no CUDA execution provider (the CPU package was built; eng/gpu-check builds with -p:OnnxRuntime=Gpu).";
        try
        {
            using var extractor = CoCaImageFeatureExtractor.Open(model.Directory, cuda);
            extractor.Encoder.Run(new float[extractor.Encoder.PixelsPerImage], 1, tokens: false, embeddings: true);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or OnnxRuntimeException)
        {
            // ONNX Runtime's message starts with its source location; the loader's reason comes after "with error: ".
            var message = e.GetBaseException().Message.Split('\n')[0].Trim();
            int reason = message.IndexOf("with error: ", StringComparison.Ordinal);
            return reason >= 0 ? $"the CUDA provider cannot load: {message[(reason + 12)..]}." : message;
        }
    }

    /// <summary>Files → tokens and embeddings, pipelined as the featurizers do; the rate after one warm-up batch.</summary>
    public static Result Featurize(string modelDir, string[] files, OnnxExecutionOptions options)
    {
        using var extractor = CoCaImageFeatureExtractor.Open(modelDir, options);
        extractor.Extract(files[..Math.Min(Batch, files.Length)], tokens: true, embeddings: true); // warm-up: session, CUDA kernels, arenas
        var tokens = new List<float>(); var embeddings = new List<float>();
        var sw = Stopwatch.StartNew();
        foreach (var (t, e) in extractor.ExtractBatches(files.Chunk(Batch), tokens: true, embeddings: true))
        {
            tokens.AddRange(t!);
            embeddings.AddRange(e!);
        }
        return new Result(tokens.ToArray(), embeddings.ToArray(), files.Length / sw.Elapsed.TotalSeconds);
    }

    /// <summary>All pictures preprocessed once (planar [3,S,S] each), for the encoder-only rates.</summary>
    public static float[] Preprocess(string modelDir, string[] files)
    {
        using var extractor = CoCaImageFeatureExtractor.Open(modelDir);
        return extractor.Preprocess(files, CpuBudget.AvailableCores).Pixels;
    }

    /// <summary>Images/s of the library's encoder session on preprocessed batches (host in, host out).</summary>
    public static double EncoderOnly(ConvertedModel model, float[] pixels, int count, OnnxExecutionOptions options)
    {
        using var extractor = CoCaImageFeatureExtractor.Open(model.Directory, options);
        var encoder = extractor.Encoder;
        encoder.Run(pixels.AsMemory(), Math.Min(Batch, count), tokens: true, embeddings: true);
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < count; start += Batch)
            encoder.Run(pixels.AsMemory(start * encoder.PixelsPerImage), Math.Min(Batch, count - start), tokens: true, embeddings: true);
        return count / sw.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The same encoder session with ONNX Runtime's IO binding: outputs into CUDA-pinned host memory (one copy out, no
    /// pageable staging), and outputs left on the device (no copy out: the ceiling of any binding).
    /// </summary>
    public static IEnumerable<(string What, double Rate)> IoBinding(ConvertedModel model, float[] pixels, int count)
    {
        var options = new OnnxExecutionOptions { Device = "cuda:0", FallbackToCpu = false };
        using var session = OnnxSessions.Create(File.ReadAllBytes(model.VisionModelPath), options, "the vision model");
        int s = model.Config.Vision.ImageSize, per = 3 * s * s;
        var results = new List<(string, double)>();
        foreach (var (what, memory) in new[]
        {
            ("cuda:0, IO binding, outputs in pinned host memory", new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.CpuOutput)),
            ("cuda:0, IO binding, outputs left on the GPU (ceiling)", new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default)),
        })
        {
            using (memory)
            {
                void RunBatch(int start)
                {
                    int n = Math.Min(Batch, count - start);
                    using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(start * per, n * per), [n, 3, s, s]);
                    using var binding = session.CreateIoBinding();
                    binding.BindInput(CoCaVisionEncoder.PixelsInput, input);
                    binding.BindOutputToDevice(CoCaVisionEncoder.TokensOutput, memory);
                    binding.BindOutputToDevice(CoCaVisionEncoder.EmbeddingOutput, memory);
                    using var runOptions = new RunOptions();
                    session.RunWithBinding(runOptions, binding);
                    binding.SynchronizeBoundOutputs();
                    using var outputs = binding.GetOutputValues();
                }
                RunBatch(0);
                var sw = Stopwatch.StartNew();
                for (int start = 0; start < count; start += Batch) RunBatch(start);
                results.Add((what, count / sw.Elapsed.TotalSeconds));
            }
        }
        return results;
    }

    /// <summary>Captions of the pictures (one batch), ids only: caption tokens from the vision model, then the cached decoder.</summary>
    public static Captions Caption(ConvertedModel model, string[] files, OnnxExecutionOptions options, CaptionDecoding decoding)
    {
        using var extractor = CoCaImageFeatureExtractor.Open(model.Directory, options);
        using var decoder = new CoCaCaptionDecoder(File.ReadAllBytes(model.CaptionImageModelPath), File.ReadAllBytes(model.CaptionStepModelPath), model.Config, options);
        var generation = new CaptionGenerationOptions { Decoding = decoding };
        var warm = extractor.ExtractCaptionTokens([files[0]]);
        decoder.Generate(warm, 1, generation);
        var sw = Stopwatch.StartNew();
        var tokens = extractor.ExtractCaptionTokens(files);
        var ids = decoder.Generate(tokens, files.Length, generation);
        return new Captions(ids, files.Length / sw.Elapsed.TotalSeconds);
    }

    public static string? FirstMismatch(long[][] a, long[][] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i].SequenceEqual(b[i])) continue;
            int p = 0;
            while (p < Math.Min(a[i].Length, b[i].Length) && a[i][p] == b[i][p]) p++;
            return $"picture {i}, position {p}: {(p < a[i].Length ? a[i][p] : -1)} vs CPU {(p < b[i].Length ? b[i][p] : -1)}";
        }
        return a.Length == b.Length ? null : $"{a.Length} captions vs CPU {b.Length}";
    }

    /// <summary>Worst item's max |x − ref| / max |ref| over items of <paramref name="size"/> values.</summary>
    public static double MaxRelativeDifference(float[] x, float[] reference, int size)
    {
        if (x.Length != reference.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int start = 0; start < x.Length; start += size)
        {
            double diff = 0, scale = 0;
            for (int j = start; j < start + size; j++)
            {
                diff = Math.Max(diff, Math.Abs((double)x[j] - reference[j]));
                scale = Math.Max(scale, Math.Abs((double)reference[j]));
            }
            double relative = diff / scale;
            if (double.IsNaN(relative)) return double.NaN;
            worst = Math.Max(worst, relative);
        }
        return worst;
    }

    public static double MinCosine(float[] x, float[] reference, int size)
    {
        double min = 1;
        for (int start = 0; start < x.Length; start += size)
            min = Math.Min(min, EmbeddingMath.Cosine(x.AsSpan(start, size), reference.AsSpan(start, size)));
        return min;
    }
}

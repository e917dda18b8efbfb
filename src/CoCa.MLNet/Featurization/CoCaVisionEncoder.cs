using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// The CoCa image encoder as an ONNX Runtime session: pixels [N,3,S,S] → tokens [N,T,W] (the frozen features)
/// and/or the contrastive embedding [N,E]. Only the requested outputs are computed.
/// Thread-safe: ONNX Runtime sessions may be run concurrently.
/// </summary>
internal sealed class CoCaVisionEncoder : IDisposable
{
    // The vision model's input and outputs, as its writer names them (one home: VisionTowerOnnx).
    public const string PixelsInput = VisionTowerOnnx.PixelValues;
    public const string TokensOutput = VisionTowerOnnx.Tokens;
    public const string EmbeddingOutput = VisionTowerOnnx.ImageEmbedding;
    public const string CaptionTokensOutput = VisionTowerOnnx.CaptionTokens;

    private readonly InferenceSession _session;
    // On CUDA: outputs land in pinned host memory through IO binding (8 % more images/s on an H200 than ONNX Runtime's
    // own copy into pageable memory; benchmarks/gpu-report.md).
    private readonly OrtMemoryInfo? _pinnedOutputs;

    public CoCaVisionEncoder(byte[] onnxModel, CoCaModelConfig config, OnnxExecutionOptions? options = null)
    {
        Config = config;
        OnnxModel = onnxModel;
        options ??= new OnnxExecutionOptions();
        IntraOpThreads = options.ResolvedIntraOpNumThreads;
        _session = OnnxSessions.Create(onnxModel, options, ModelInWords, out bool onGpu);
        OnGpu = onGpu;
        _pinnedOutputs = onGpu ? OnnxSessions.CudaMemory(options.ComputeDevice.CudaIndex, pinnedHost: true) : null;
        // On a GPU the session leaves the cores to preprocessing; on the CPU it takes them and preprocessing gets the rest.
        OverlappingThreads = onGpu ? CpuBudget.AvailableCores : CpuBudget.OverlappingThreads(IntraOpThreads);
        if (!_session.InputMetadata.ContainsKey(PixelsInput) || !_session.OutputMetadata.ContainsKey(TokensOutput) || !_session.OutputMetadata.ContainsKey(EmbeddingOutput))
            throw new InvalidDataException($"The ONNX model for '{config.Name}' is not a CoCa.MLNet vision model: it needs input '{PixelsInput}' and outputs '{TokensOutput}', '{EmbeddingOutput}'.");
    }

    public CoCaModelConfig Config { get; }

    private string ModelInWords => $"the CoCa vision model '{Config.Name}'";

    /// <summary>Whether the session runs on CUDA: false on the CPU, also when CUDA was asked for and fell back.</summary>
    public bool OnGpu { get; }

    /// <summary>ONNX Runtime intra-op threads of this session.</summary>
    public int IntraOpThreads { get; }

    /// <summary>Threads for decoding and preprocessing that overlaps this encoder's runs without oversubscribing the cores.</summary>
    public int OverlappingThreads { get; }

    /// <summary>The ONNX model bytes (kept for saving).</summary>
    public byte[] OnnxModel { get; }

    public int ImageSize => Config.Vision.ImageSize;
    public int TokenCount => Config.Vision.TokenCount;
    public int Width => Config.Vision.Width;
    public int EmbedDim => Config.EmbedDim;
    public int PixelsPerImage => 3 * ImageSize * ImageSize;

    /// <summary>Runs <paramref name="count"/> preprocessed images (planar [3,S,S] each, back to back).</summary>
    public (float[]? Tokens, float[]? Embeddings) Run(float[] pixels, int count, bool tokens, bool embeddings) =>
        Run(pixels.AsMemory(), count, tokens, embeddings);

    /// <summary>Runs <paramref name="count"/> preprocessed images held in <paramref name="pixels"/> (e.g. a slice of a larger batch).</summary>
    internal (float[]? Tokens, float[]? Embeddings) Run(Memory<float> pixels, int count, bool tokens, bool embeddings)
    {
        if (pixels.Length < count * PixelsPerImage)
            throw new ArgumentException($"{count} images of {ImageSize}x{ImageSize} need {count * PixelsPerImage} values, got {pixels.Length}.", nameof(pixels));
        if (!tokens && !embeddings) return (null, null);
        var names = new List<string>(2);
        if (tokens) names.Add(TokensOutput);
        if (embeddings) names.Add(EmbeddingOutput);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels[..(count * PixelsPerImage)], [count, 3, ImageSize, ImageSize]);
        using var outputs = RunSession(input, names);
        float[]? t = null, e = null;
        int k = 0;
        if (tokens) t = FiniteOutputs.Require(outputs[k++].GetTensorDataAsSpan<float>().ToArray(), ModelInWords, "output tokens", TokenCount * Width);
        if (embeddings) e = FiniteOutputs.Require(outputs[k].GetTensorDataAsSpan<float>().ToArray(), ModelInWords, "image embedding", EmbedDim);
        return (t, e);
    }

    /// <summary>The captioner's input: ln_post(attn_pool(tokens))[:, 1:] [count, n_queries−1, E] of preprocessed images.</summary>
    public float[] RunCaptionTokens(float[] pixels, int count)
    {
        if (pixels.Length < count * PixelsPerImage)
            throw new ArgumentException($"{count} images of {ImageSize}x{ImageSize} need {count * PixelsPerImage} values, got {pixels.Length}.", nameof(pixels));
        if (!_session.OutputMetadata.ContainsKey(CaptionTokensOutput))
            throw new InvalidDataException($"The vision model of '{Config.Name}' has no '{CaptionTokensOutput}' output; convert the checkpoint again with this version.");
        if (count == 0) return [];
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * PixelsPerImage), [count, 3, ImageSize, ImageSize]);
        using var outputs = RunSession(input, [CaptionTokensOutput]);
        var captionTokens = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        return FiniteOutputs.Require(captionTokens, ModelInWords, "caption tokens", captionTokens.Length / count);
    }

    private IDisposableReadOnlyCollection<OrtValue> RunSession(OrtValue pixels, IReadOnlyList<string> outputNames)
    {
        if (_disposed) throw OnnxSessions.Disposed(ModelInWords);
        using var runOptions = new RunOptions();
        if (_pinnedOutputs is null) return _session.Run(runOptions, [PixelsInput], [pixels], outputNames);
        using var binding = _session.CreateIoBinding();
        binding.BindInput(PixelsInput, pixels);
        foreach (var name in outputNames) binding.BindOutputToDevice(name, _pinnedOutputs);
        _session.RunWithBinding(runOptions, binding);
        binding.SynchronizeBoundOutputs();
        return binding.GetOutputValues();
    }

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _session.Dispose();
        _pinnedOutputs?.Dispose();
    }
}

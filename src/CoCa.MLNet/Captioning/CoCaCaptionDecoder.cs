using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CoCa.MLNet.Captioning;

/// <summary>
/// CoCa's captioning decoder as two ONNX Runtime sessions (<see cref="CaptionDecoderOnnx"/>): the image side, run once
/// per image, and the step model with its key/value cache; plus open_clip's decoding (<see cref="Generate"/>).
/// Thread-safe: every call keeps its own cache.
/// </summary>
internal sealed class CoCaCaptionDecoder : IDisposable
{
    private readonly InferenceSession _image;
    private readonly InferenceSession _step;
    private readonly IReadOnlyList<CaptionDecoderOnnx.CacheLayer> _cache;
    private readonly string[] _crossNames;
    private readonly string[] _stepInputNames;
    private readonly string[] _stepOutputNames;
    // On CUDA the image side's cross-attention keys/values (the largest tensors: layers × images × N × E, 200 MB for 16
    // images of coca_ViT-B-32) and, unless the caller reorders them, the step's present keys/values stay on the device
    // between runs through IO binding; only the ids go in and the logits come out. Null on the CPU.
    private readonly OrtMemoryInfo? _device;

    public CoCaCaptionDecoder(byte[] imageModel, byte[] stepModel, CoCaModelConfig config, OnnxExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(imageModel);
        ArgumentNullException.ThrowIfNull(stepModel);
        Config = config ?? throw new ArgumentNullException(nameof(config));
        CaptionDecoderOnnx.RequireCaptioning(config);
        ImageModel = imageModel;
        StepModel = stepModel;
        _cache = CaptionDecoderOnnx.CacheLayers(config);
        _crossNames = Enumerable.Range(0, config.Multimodal.Layers)
            .SelectMany(i => new[] { CaptionDecoderOnnx.CrossKey(i), CaptionDecoderOnnx.CrossValue(i) }).ToArray();
        _stepInputNames = new[] { CaptionDecoderOnnx.InputIds }
            .Concat(_cache.SelectMany(c => new[] { c.PastKey, c.PastValue })).Concat(_crossNames).ToArray();
        _stepOutputNames = new[] { CaptionDecoderOnnx.Logits }
            .Concat(_cache.SelectMany(c => new[] { c.PresentKey, c.PresentValue })).ToArray();
        _image = OnnxSessions.Create(imageModel, options, $"the CoCa caption decoder (image side) of '{config.Name}'", out bool imageOnGpu);
        try
        {
            _step = OnnxSessions.Create(stepModel, options, $"the CoCa caption decoder (step) of '{config.Name}'", out bool stepOnGpu);
            options ??= new OnnxExecutionOptions();
            _device = imageOnGpu && stepOnGpu ? OnnxSessions.CudaMemory(options.ComputeDevice.CudaIndex, pinnedHost: false) : null;
        }
        catch
        {
            _image.Dispose();
            throw;
        }
        if (!_stepInputNames.All(_step.InputMetadata.ContainsKey) || !_stepOutputNames.All(_step.OutputMetadata.ContainsKey)
            || !_image.InputMetadata.ContainsKey(CaptionDecoderOnnx.CaptionTokens) || !_crossNames.All(_image.OutputMetadata.ContainsKey))
        {
            Dispose();
            throw new InvalidDataException($"The ONNX models given for '{config.Name}' are not a CoCa.MLNet caption decoder with {config.Text.Layers} text and {config.Multimodal.Layers} decoder layers.");
        }
    }

    public CoCaModelConfig Config { get; }

    /// <summary>The ONNX model bytes (kept for saving).</summary>
    public byte[] ImageModel { get; }
    public byte[] StepModel { get; }

    /// <summary>Caption tokens per image (attn_pooler_queries − 1).</summary>
    public int CaptionTokenCount => Config.Vision.AttnPoolerQueries - 1;
    public int EmbedDim => Config.EmbedDim;
    public int VocabularySize => Config.Multimodal.VocabSize;

    /// <summary>
    /// Captions (token ids, as open_clip's <c>generate()</c> returns each row: start token first, the end token last when
    /// the caption ended before <see cref="CaptionGenerationOptions.MaxTokens"/>, no padding) for <paramref name="images"/>
    /// images' caption tokens [images, N, E] (the vision model's <c>caption_tokens</c>), decoded together.
    /// <paramref name="firstImageIndex"/> picks the images' sampling streams (the index of the first in the whole run).
    /// </summary>
    public long[][] Generate(float[] captionTokens, int images, CaptionGenerationOptions? options = null, long firstImageIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(captionTokens);
        options ??= new CaptionGenerationOptions();
        options.Validate(VocabularySize);
        long needed = (long)images * CaptionTokenCount * EmbedDim;
        if (images < 0 || captionTokens.Length < needed)
            throw new ArgumentException($"{images} images need {needed} caption-token values ([{images}, {CaptionTokenCount}, {EmbedDim}]), got {captionTokens.Length}.", nameof(captionTokens));
        if (images == 0) return [];
        if (options.Decoding == CaptionDecoding.BeamSearch)
        {
            // Every image's beams are a block of rows of their own, so decoding the images a few at a time gives the same
            // ids in less memory: big --beams on a big batch would otherwise grow until the OS kills the process.
            long perImage = BeamSearchBytesPerImage(options), budget = BeamSearchMemoryBudget;
            if (perImage > budget)
                throw new ArgumentException($"Beam search with {options.Beams} beams of up to {options.MaxTokens} tokens needs about {ByteSize.Format(perImage)} " +
                    $"for one image with '{Config.Name}', more than the {ByteSize.Format(budget)} it may use (half of this machine's memory); " +
                    $"use at most {Math.Max(1, budget / (perImage / options.Beams))} beams, or fewer tokens.", nameof(options));
            int together = (int)Math.Min(images, budget / perImage);
            if (together < images)
            {
                int per = CaptionTokenCount * EmbedDim;
                var all = new List<long[]>(images);
                for (int start = 0; start < images; start += together)
                {
                    int count = Math.Min(together, images - start);
                    all.AddRange(Decode(captionTokens.AsSpan(start * per, count * per).ToArray(), count, options, firstImageIndex + start));
                }
                return [.. all];
            }
        }
        return Decode(captionTokens, images, options, firstImageIndex);
    }

    /// <summary>
    /// About the most memory beam search holds for one image: each of its beams keeps a key/value cache of up to
    /// <see cref="CaptionGenerationOptions.MaxTokens"/> positions in every cached layer (a step's past and present side
    /// by side, the reordered copy, and ONNX Runtime's arena rounding up what it holds: 6 caches in all, fitted to peak
    /// RSS by the <c>beam-memory</c> benchmark, benchmarks/README.md) and rows of logits (ONNX Runtime's, the copy
    /// read here, the scores).
    /// </summary>
    internal long BeamSearchBytesPerImage(CaptionGenerationOptions options)
    {
        long cachePerRow = _cache.Sum(c => 2L * c.Heads * c.HeadDim) * options.MaxTokens * sizeof(float);
        long logitsPerRow = (long)VocabularySize * sizeof(float);
        return options.Beams * (6 * cachePerRow + 3 * logitsPerRow);
    }

    /// <summary>What beam search may hold at once: half of the memory this process may use (tests set less).</summary>
    internal long BeamSearchMemoryBudget { get; set; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    private long[][] Decode(float[] captionTokens, int images, CaptionGenerationOptions options, long firstImageIndex)
    {
        using ICaptionLogitsSource source = options.UseCache
            ? new CachedLogitsSource(this, captionTokens, images, reordersCache: options.Decoding == CaptionDecoding.BeamSearch)
            : new RecomputingLogitsSource(this, captionTokens, images);
        return options.Decoding == CaptionDecoding.BeamSearch
            ? CaptionSearch.Beam(source, images, options, VocabularySize)
            : CaptionSearch.Sample(source, images, options, VocabularySize, firstImageIndex);
    }

    /// <summary>The image side: cross-attention keys/values of <paramref name="images"/> images (caller disposes).</summary>
    internal IDisposableReadOnlyCollection<OrtValue> RunImageSide(float[] captionTokens, int images)
    {
        if (_disposed) throw OnnxSessions.Disposed($"the CoCa caption decoder of '{Config.Name}'");
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            captionTokens.AsMemory(0, images * CaptionTokenCount * EmbedDim), [images, CaptionTokenCount, EmbedDim]);
        using var runOptions = new RunOptions();
        if (_device is null) return _image.Run(runOptions, [CaptionDecoderOnnx.CaptionTokens], [input], _crossNames);
        using var binding = _image.CreateIoBinding();
        binding.BindInput(CaptionDecoderOnnx.CaptionTokens, input);
        foreach (var name in _crossNames) binding.BindOutputToDevice(name, _device);
        _image.RunWithBinding(runOptions, binding);
        return binding.GetOutputValues();
    }

    /// <summary>Empty self-attention caches (P = 0) for <paramref name="rows"/> rows, in input order (key, value per layer).</summary>
    internal OrtValue[] EmptyPast(int rows) =>
        _cache.SelectMany(c => new[] { Empty(rows, c), Empty(rows, c) }).ToArray();

    private static OrtValue Empty(int rows, CaptionDecoderOnnx.CacheLayer c) =>
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [rows, c.Heads, 0, c.HeadDim]);

    /// <summary>
    /// One step: <paramref name="ids"/> [rows, newTokens] after <paramref name="past"/> (key, value per cache layer).
    /// Returns the logits of the last new position [rows, V] (copied) and the present keys/values (caller disposes).
    /// <paramref name="presentOnHost"/>: the caller reads the present keys/values in .NET (beam search reorders them),
    /// so on CUDA they come back to the host; otherwise they stay on the device for the next step.
    /// </summary>
    internal (float[] Logits, IDisposableReadOnlyCollection<OrtValue> Outputs) RunStep(long[] ids, int rows, int newTokens,
        IReadOnlyList<OrtValue> past, IReadOnlyList<OrtValue> cross, bool presentOnHost = true)
    {
        if (_disposed) throw OnnxSessions.Disposed($"the CoCa caption decoder of '{Config.Name}'");
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, rows * newTokens), [rows, newTokens]);
        var inputs = new List<OrtValue>(_stepInputNames.Length) { input };
        inputs.AddRange(past);
        inputs.AddRange(cross);
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> outputs;
        if (_device is null)
        {
            outputs = _step.Run(runOptions, _stepInputNames, inputs, _stepOutputNames);
        }
        else
        {
            using var binding = _step.CreateIoBinding();
            for (int i = 0; i < inputs.Count; i++) binding.BindInput(_stepInputNames[i], inputs[i]);
            binding.BindOutputToDevice(_stepOutputNames[0], OrtMemoryInfo.DefaultInstance);
            for (int i = 1; i < _stepOutputNames.Length; i++)
                binding.BindOutputToDevice(_stepOutputNames[i], presentOnHost ? OrtMemoryInfo.DefaultInstance : _device);
            _step.RunWithBinding(runOptions, binding);
            binding.SynchronizeBoundOutputs();
            outputs = binding.GetOutputValues();
        }
        var logits = FiniteOutputs.Require(outputs[0].GetTensorDataAsSpan<float>().ToArray(), $"the CoCa caption decoder of '{Config.Name}'", "next-token logits", Config.Multimodal.VocabSize);
        return (logits, outputs);
    }

    /// <summary>Number of cache tensors (key and value per self-attention layer).</summary>
    internal int CacheTensorCount => 2 * _cache.Count;

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _image?.Dispose();
        _step?.Dispose();
        _device?.Dispose();
    }
}

using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// The CoCa text tower as an ONNX Runtime session: token ids [N, L] (open_clip's tokenizer output) → the contrastive
/// text embedding [N, E], not normalized. Thread-safe: ONNX Runtime sessions may be run concurrently.
/// </summary>
internal sealed class CoCaTextEncoder : IDisposable
{
    public const string InputIdsInput = TextTowerOnnx.InputIds;
    public const string EmbeddingOutput = TextTowerOnnx.TextEmbedding;

    private readonly InferenceSession _session;
    private readonly string _what;
    private bool _disposed;

    public CoCaTextEncoder(byte[] onnxModel, CoCaModelConfig config, OnnxExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        Config = config ?? throw new ArgumentNullException(nameof(config));
        OnnxModel = onnxModel;
        _what = $"the CoCa text model '{config.Name}'";
        _session = OnnxSessions.Create(onnxModel, options, _what);
        if (!_session.InputMetadata.TryGetValue(InputIdsInput, out var input) || input.ElementType != typeof(long)
            || !_session.OutputMetadata.ContainsKey(EmbeddingOutput))
        {
            _session.Dispose();
            throw new InvalidDataException($"The ONNX model for '{config.Name}' is not a CoCa.MLNet text model: it needs an int64 input '{InputIdsInput}' and output '{EmbeddingOutput}'.");
        }
    }

    /// <summary>Opens the text tower of a converted model folder; a clear error when it was converted without one.</summary>
    public static CoCaTextEncoder Open(string modelPath, OnnxExecutionOptions? options = null)
    {
        var model = ConvertedModel.Open(modelPath);
        if (!model.HasText)
            throw new InvalidOperationException(
                $"Converted model '{model.Directory}' has no text tower ({ConvertedModel.TextFile}): its checkpoint '{model.Source}' had no text.* weights. " +
                "Convert a full open_clip CoCa checkpoint to embed text.");
        return new CoCaTextEncoder(File.ReadAllBytes(model.TextModelPath), model.Config, options);
    }

    public CoCaModelConfig Config { get; }

    /// <summary>The ONNX model bytes (kept for saving).</summary>
    public byte[] OnnxModel { get; }

    /// <summary>Token ids per text (text_cfg.context_length: 76 for CoCa).</summary>
    public int ContextLength => Config.Text.ContextLength;

    public int EmbedDim => Config.EmbedDim;

    /// <summary>Embeddings [count, E] of <paramref name="count"/> rows of ids (row-major [count, L]).</summary>
    /// <exception cref="ArgumentException">Too few ids, or an id outside the vocabulary.</exception>
    public float[] Run(long[] ids, int count)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long needed = (long)count * ContextLength;
        if (ids.Length < needed)
            throw new ArgumentException($"{count} texts of {ContextLength} token ids need {needed} ids, got {ids.Length}.", nameof(ids));
        if (count == 0) return [];
        int vocab = Config.Text.VocabSize;
        for (long i = 0; i < needed; i++)
            if ((ulong)ids[i] >= (ulong)vocab)
                throw new ArgumentException($"Token id {ids[i]} (text {i / ContextLength}, position {i % ContextLength}) is outside the model's vocabulary [0, {vocab}).", nameof(ids));
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, (int)needed), [count, ContextLength]);
        using var runOptions = new RunOptions();
        if (_disposed) throw OnnxSessions.Disposed(_what);
        using var outputs = _session.Run(runOptions, [InputIdsInput], [input], [EmbeddingOutput]);
        return FiniteOutputs.Require(outputs[0].GetTensorDataAsSpan<float>().ToArray(), $"the CoCa text model '{Config.Name}'", "text embedding", Config.EmbedDim);
    }

    public void Dispose()
    {
        _disposed = true;
        _session.Dispose();
    }
}

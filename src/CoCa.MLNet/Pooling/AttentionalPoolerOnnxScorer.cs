using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Pooling;

/// <summary>
/// A trained attentional pooler + classifier as an ONNX Runtime session: tokens [B, F·T, D] → class probabilities
/// [B, K]. Needs no libtorch. Thread-safe (ONNX Runtime sessions may be run concurrently).
/// </summary>
internal sealed class AttentionalPoolerOnnxScorer : IDisposable
{
    public const string FeaturesInput = AttentionalPoolerOnnx.FeaturesInput;
    public const string ProbabilitiesOutput = AttentionalPoolerOnnx.ProbabilitiesOutput;

    private readonly InferenceSession _session;
    private bool _disposed;

    public AttentionalPoolerOnnxScorer(byte[] onnxModel, AttentionalPoolerConfig config, OnnxExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        OnnxModel = onnxModel;
        _session = OnnxSessions.Create(onnxModel, options, "the attentional pooler");
        if (!_session.InputMetadata.ContainsKey(FeaturesInput) || !_session.OutputMetadata.ContainsKey(ProbabilitiesOutput))
            throw new InvalidDataException($"The ONNX model is not a CoCa.MLNet attentional pooler: it needs input '{FeaturesInput}' and output '{ProbabilitiesOutput}'.");
    }

    public AttentionalPoolerConfig Config { get; }

    /// <summary>The ONNX model bytes (kept for saving).</summary>
    public byte[] OnnxModel { get; }

    /// <summary>Values per example: F·T·D.</summary>
    public int RowLength => Config.Tokens * Config.Dim;

    /// <summary>Class probabilities [count, K] for <paramref name="count"/> examples of F·T·D values each, back to back.</summary>
    public float[] Run(float[] tokens, int count)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "At least one example is needed.");
        if (tokens.LongLength < (long)count * RowLength)
            throw new ArgumentException($"{count} examples of {Config.Tokens}×{Config.Dim} tokens need {(long)count * RowLength} values, got {tokens.LongLength}.", nameof(tokens));
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tokens.AsMemory(0, count * RowLength), [count, Config.Tokens, Config.Dim]);
        using var runOptions = new RunOptions();
        if (_disposed) throw OnnxSessions.Disposed("the attentional pooler");
        using var outputs = _session.Run(runOptions, [FeaturesInput], [input], [ProbabilitiesOutput]);
        // NaN probabilities would all predict the first class (and ML.NET's evaluator would drop their rows): refused.
        return FiniteOutputs.Require(outputs[0].GetTensorDataAsSpan<float>().ToArray(), "the attentional pooler", "class probabilities", Config.Classes,
            "Use a pooler trained to finite weights (retrain it, e.g. with a lower learning rate).");
    }

    public void Dispose()
    {
        _disposed = true;
        _session.Dispose();
    }
}

using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training.Devices;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// Scores trained pooler weights with TorchSharp (the training-time implementation): tokens → class probabilities.
/// Deployment uses the ONNX model of <see cref="AttentionalPoolerTransformer"/>; this one is the reference it is
/// checked against. Test support (the training tests and the defaults benchmark compile it in), not shipped.
/// </summary>
internal sealed class AttentionalPoolerTorchScorer : IDisposable
{
    private readonly AttentionalPoolerModule _module;
    private readonly Device _device;

    public AttentionalPoolerTorchScorer(AttentionalPoolerWeights weights, string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(weights);
        _device = TorchDevices.Parse(device);
        _module = new AttentionalPoolerModule(weights.Config);
        _module.LoadWeights(weights);
        _module.to(_device);
        _module.eval();
    }

    public AttentionalPoolerConfig Config => _module.Config;

    /// <summary>Null: reassociated attention whenever cheaper; true/false forces one formulation.</summary>
    public bool? UseReassociation
    {
        get => _module.UseReassociation;
        set => _module.UseReassociation = value;
    }

    /// <summary>Class probabilities [count, K] of <paramref name="count"/> examples (F·T·D floats each, back to back).</summary>
    public float[] PredictProbabilities(float[] tokens, int count, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var c = Config;
        long len = (long)c.Tokens * c.Dim;
        if (tokens.LongLength < count * len)
            throw new ArgumentException($"{count} examples of {c.Tokens}×{c.Dim} tokens need {count * len} values, got {tokens.LongLength}.", nameof(tokens));
        var result = new float[(long)count * c.Classes];
        using var _ = torch.no_grad();
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            using var scope = NewDisposeScope();
            var x = torch.tensor(new Memory<float>(tokens, (int)(start * len), (int)(n * len)), [n, c.Tokens, c.Dim]).to(_device);
            var p = _module.forward(x).softmax(1).cpu();
            p.data<float>().CopyTo(result, start * c.Classes);
        }
        return result;
    }

    public void Dispose() => _module.Dispose();
}

using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>Gathers rows of a <see cref="FeatureStore"/> into a float32 tensor [B, F·T, D] on the training device.</summary>
internal sealed class TokenBatchLoader
{
    private readonly FeatureStore _store;
    private readonly Device _device;
    private readonly Half[] _buffer;

    public TokenBatchLoader(FeatureStore store, int maxBatch, Device device)
    {
        _store = store;
        _device = device;
        _buffer = new Half[(long)maxBatch * store.Shape.RowLength];
    }

    public Tensor Load(ReadOnlySpan<int> rows)
    {
        var shape = _store.Shape;
        int n = rows.Length;
        _store.ReadRows(rows, _buffer);
        using var half = torch.tensor(new Memory<Half>(_buffer, 0, n * shape.RowLength), [n, shape.Tokens, shape.Dim]);
        // The float16 → float32 widening runs in libtorch (vectorised, multi-threaded).
        return half.to(ScalarType.Float32, _device);
    }
}

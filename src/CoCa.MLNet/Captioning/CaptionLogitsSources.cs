using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Captioning;

/// <summary>Next-token logits for a batch of partial captions; the decoding strategies are written against this.</summary>
internal interface ICaptionLogitsSource : IDisposable
{
    /// <summary>
    /// Logits [rows, V] of the next token after each row's tokens <c>sequences[row·stride … row·stride+length)</c>.
    /// <paramref name="parents"/>: the row of the previous call each row continues (beam search reorders rows); null
    /// when every row continues itself. Rows of one image are adjacent (rows / images per image).
    /// </summary>
    float[] Next(long[] sequences, int stride, int rows, int length, int[]? parents);
}

/// <summary>
/// The cached decoder: cross-attention keys/values once per image, then one new token per step with the previous
/// step's self-attention keys/values (reordered by beam parents), so a step costs O(current length).
/// </summary>
internal sealed class CachedLogitsSource : ICaptionLogitsSource
{
    private readonly CoCaCaptionDecoder _decoder;
    private readonly IDisposableReadOnlyCollection<OrtValue> _cross;
    private IReadOnlyList<OrtValue>? _past;
    private IDisposable? _pastOwner;
    private int _pastLength;
    private int _rows = -1;

    private readonly bool _reordersCache;

    // reordersCache: beam search regathers rows between steps (in .NET, so on CUDA the cache comes back to the host).
    public CachedLogitsSource(CoCaCaptionDecoder decoder, float[] captionTokens, int images, bool reordersCache = true)
    {
        _decoder = decoder;
        _reordersCache = reordersCache;
        _cross = decoder.RunImageSide(captionTokens, images);
    }

    public float[] Next(long[] sequences, int stride, int rows, int length, int[]? parents)
    {
        if (_rows < 0)
        {
            _rows = rows;
            var empty = _decoder.EmptyPast(rows);
            _past = empty;
            _pastOwner = new DisposableList(empty);
        }
        if (rows != _rows || length != _pastLength + (_pastLength == 0 ? length : 1))
            throw new InvalidOperationException($"The cached decoder holds {_pastLength} positions of {_rows} rows; asked for {length} positions of {rows}.");
        if (parents is not null && _pastLength > 0 && !IsIdentity(parents))
        {
            if (!_reordersCache) throw new InvalidOperationException("This cache was kept on the device and cannot be reordered; create the source with reordersCache.");
            Reorder(parents);
        }

        int newTokens = length - _pastLength;
        var ids = new long[rows * newTokens];
        for (int r = 0; r < rows; r++)
            Array.Copy(sequences, r * stride + _pastLength, ids, r * newTokens, newTokens);
        var (logits, outputs) = _decoder.RunStep(ids, rows, newTokens, _past!, _cross, presentOnHost: _reordersCache);
        _pastOwner?.Dispose();
        _pastOwner = outputs;
        _past = outputs.Skip(1).ToList();
        _pastLength = length;
        return logits;
    }

    /// <summary>Gathers the rows of every cache tensor [rows, H, P, hd] by <paramref name="parents"/>.</summary>
    private void Reorder(int[] parents)
    {
        var reordered = new OrtValue[_past!.Count];
        for (int t = 0; t < reordered.Length; t++)
        {
            var shape = _past[t].GetTensorTypeAndShape().Shape;
            var source = _past[t].GetTensorDataAsSpan<float>();
            int block = checked((int)(shape[1] * shape[2] * shape[3]));
            var data = new float[source.Length];
            for (int r = 0; r < parents.Length; r++)
                source.Slice(parents[r] * block, block).CopyTo(data.AsSpan(r * block, block));
            reordered[t] = OrtValue.CreateTensorValueFromMemory(data, shape);
        }
        _pastOwner?.Dispose();
        _pastOwner = new DisposableList(reordered);
        _past = reordered;
    }

    private static bool IsIdentity(int[] parents)
    {
        for (int i = 0; i < parents.Length; i++)
            if (parents[i] != i) return false;
        return true;
    }

    public void Dispose()
    {
        _pastOwner?.Dispose();
        _cross.Dispose();
    }

    private sealed class DisposableList(IReadOnlyList<OrtValue> values) : IDisposable
    {
        public void Dispose()
        {
            foreach (var v in values) v.Dispose();
        }
    }
}

/// <summary>
/// open_clip's way, for comparisons: every step reruns the whole prefix (no cache) and, unless
/// <paramref name="recomputeImageSide"/> is false, the image's cross-attention keys/values too; the same graphs.
/// </summary>
internal sealed class RecomputingLogitsSource(CoCaCaptionDecoder decoder, float[] captionTokens, int images, bool recomputeImageSide = true)
    : ICaptionLogitsSource
{
    private IDisposableReadOnlyCollection<OrtValue>? _cross;

    public float[] Next(long[] sequences, int stride, int rows, int length, int[]? parents)
    {
        if (recomputeImageSide) _cross?.Dispose();
        if (recomputeImageSide || _cross is null) _cross = decoder.RunImageSide(captionTokens, images);
        var cross = _cross;
        var past = decoder.EmptyPast(rows);
        try
        {
            var ids = new long[rows * length];
            for (int r = 0; r < rows; r++) Array.Copy(sequences, r * stride, ids, r * length, length);
            var (logits, outputs) = decoder.RunStep(ids, rows, length, past, cross);
            outputs.Dispose();
            return logits;
        }
        finally
        {
            foreach (var p in past) p.Dispose();
        }
    }

    public void Dispose() => _cross?.Dispose();
}

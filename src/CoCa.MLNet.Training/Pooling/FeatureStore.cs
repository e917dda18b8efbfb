namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Frozen-encoder tokens of every training example, stored once as float16 (half the memory of float32, and plenty for
/// features that are LayerNorm-ed before use). Training reads mini-batches of rows from it in any order.
/// </summary>
internal abstract class FeatureStore : IDisposable
{
    protected FeatureStore(TokenShape shape, int count)
    {
        Shape = shape;
        Count = count;
    }

    public TokenShape Shape { get; }

    /// <summary>Examples stored.</summary>
    public int Count { get; }

    /// <summary>Bytes the rows take (in memory or on disk).</summary>
    public long ByteLength => (long)Count * Shape.RowLength * sizeof(ushort);

    /// <summary>Whether rows live in a file rather than in process memory.</summary>
    public abstract bool IsOnDisk { get; }

    /// <summary>Copies row <paramref name="row"/> (F·T·D halves) into <paramref name="destination"/>.</summary>
    public abstract void ReadRow(int row, Span<Half> destination);

    /// <summary>Copies the rows <paramref name="rows"/>, one after another, into <paramref name="destination"/>.</summary>
    public void ReadRows(ReadOnlySpan<int> rows, Span<Half> destination)
    {
        int len = Shape.RowLength;
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"Row index outside the {Count} stored examples.");
            ReadRow(rows[i], destination.Slice(i * len, len));
        }
    }

    public abstract void Dispose();
}

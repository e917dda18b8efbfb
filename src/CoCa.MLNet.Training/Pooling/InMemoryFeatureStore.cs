namespace CoCa.MLNet.Training.Pooling;

/// <summary>Rows held in process memory, in chunks (no single array limit on the dataset size).</summary>
internal sealed class InMemoryFeatureStore : FeatureStore
{
    private readonly List<Half[]> _chunks;
    private readonly int _rowsPerChunk;

    public InMemoryFeatureStore(TokenShape shape, int count, List<Half[]> chunks, int rowsPerChunk) : base(shape, count)
    {
        _chunks = chunks;
        _rowsPerChunk = rowsPerChunk;
    }

    public override bool IsOnDisk => false;

    public override void ReadRow(int row, Span<Half> destination)
    {
        int len = Shape.RowLength;
        _chunks[row / _rowsPerChunk].AsSpan(row % _rowsPerChunk * len, len).CopyTo(destination);
    }

    public override void Dispose() => _chunks.Clear();
}

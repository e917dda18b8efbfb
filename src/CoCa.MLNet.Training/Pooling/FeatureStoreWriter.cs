using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using CoCa.MLNet.IO;
using Microsoft.Win32.SafeHandles;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Builds a <see cref="FeatureStore"/> row by row, converting to float16 and rejecting values that are not finite or do
/// not fit float16. Rows go to memory until <c>memoryBudgetBytes</c> would be exceeded, then everything moves to a
/// temporary file (deleted when the store is disposed); with a cache directory they go straight to a file there, which
/// gets its final name (from the cache key, known only at the end) once complete.
/// </summary>
internal sealed class FeatureStoreWriter : IDisposable
{
    private const int ChunkBytes = 64 << 20;
    private const float HalfMax = 65504f;

    private readonly TokenShape _shape;
    private readonly long _memoryBudgetBytes;
    private readonly string _tempDirectory;
    private readonly string? _cacheDirectory;
    private readonly string _columnName;
    private readonly int _rowsPerChunk;
    private readonly List<Half[]> _chunks = [];
    private readonly Half[] _rowBuffer;

    private SafeFileHandle? _file;
    private string? _filePath;
    private string? _fileTempPath;
    private int _count;
    private bool _completed;

    // expectedRows: the rows about to be written, when known; if they exceed the memory budget they go straight to a
    // file, so memory never holds a budget's worth of rows on the way there.
    public FeatureStoreWriter(TokenShape shape, string columnName, long memoryBudgetBytes, string tempDirectory, string? cacheDirectory, int expectedRows = 0)
    {
        _shape = shape;
        _columnName = columnName;
        _memoryBudgetBytes = memoryBudgetBytes;
        _tempDirectory = tempDirectory;
        _cacheDirectory = cacheDirectory;
        _rowsPerChunk = Math.Max(1, ChunkBytes / (shape.RowLength * sizeof(ushort)));
        _rowBuffer = new Half[shape.RowLength];
        if (cacheDirectory is not null) OpenCacheFile(cacheDirectory);
        else if ((long)expectedRows * shape.RowLength * sizeof(ushort) > memoryBudgetBytes) SpillToTemporaryFile();
    }

    public int Count => _count;

    /// <summary>Appends one example's tokens (F·T·D floats); <paramref name="sourceRow"/> names it in errors.</summary>
    public void Append(ReadOnlySpan<float> row, long sourceRow)
    {
        if (row.Length != _shape.RowLength)
            throw new ArgumentException($"Row {sourceRow} of column '{_columnName}' has {row.Length} values, expected {_shape.RowLength} ({_shape}).");
        CheckValues(row, sourceRow);
        TensorPrimitives.ConvertToHalf(row, _rowBuffer);

        if (_file is null && (long)(_count + 1) * _shape.RowLength * sizeof(ushort) > _memoryBudgetBytes)
            SpillToTemporaryFile();
        if (_file is not null)
        {
            var bytes = MemoryMarshal.AsBytes(_rowBuffer.AsSpan());
            RandomAccess.Write(_file, bytes, FileFeatureStore.HeaderBytes + (long)_count * bytes.Length);
        }
        else
        {
            int inChunk = _count % _rowsPerChunk;
            if (inChunk == 0) _chunks.Add(new Half[(long)_rowsPerChunk * _shape.RowLength]);
            _rowBuffer.CopyTo(_chunks[^1].AsSpan(inChunk * _shape.RowLength));
        }
        _count++;
    }

    /// <summary>
    /// Finishes the store; <paramref name="key"/> goes into a file's header, and a cache file is published as
    /// <paramref name="cachePath"/> (required with a cache directory).
    /// </summary>
    public FeatureStore Complete(ReadOnlySpan<byte> key, string? cachePath = null)
    {
        if (_completed) throw new InvalidOperationException("The feature store is already complete.");
        _completed = true;
        if (_file is null) return new InMemoryFeatureStore(_shape, _count, [.. _chunks], _rowsPerChunk);

        RandomAccess.Write(_file, FileFeatureStore.CreateHeader(_shape, _count, key), 0);
        if (_cacheDirectory is null)
        {
            var store = FileFeatureStore.Wrap(_shape, _count, _file, _filePath!);
            _file = null;
            return store;
        }
        ArgumentNullException.ThrowIfNull(cachePath);
        // Publish the cache under its name only now, complete: an interrupted run leaves no half-written cache behind.
        _file.Dispose();
        _file = null;
        File.Move(_fileTempPath!, cachePath, overwrite: true);
        _fileTempPath = null;
        return FileFeatureStore.TryOpen(cachePath, _shape, _count, key)
            ?? throw new IOException($"Feature cache '{cachePath}' changed while it was being written.");
    }

    private void CheckValues(ReadOnlySpan<float> row, long sourceRow)
    {
        float maxAbs = TensorPrimitives.MaxMagnitude(row);
        if (float.IsFinite(maxAbs) && Math.Abs(maxAbs) <= HalfMax) return;
        for (int i = 0; i < row.Length; i++)
        {
            if (float.IsFinite(row[i]) && Math.Abs(row[i]) <= HalfMax) continue;
            int d = i % _shape.Dim, t = i / _shape.Dim % _shape.TokensPerFrame, f = i / _shape.Dim / _shape.TokensPerFrame;
            var where = _shape.Frames == 1 ? $"token {t}, value {d}" : $"frame {f}, token {t}, value {d}";
            var what = float.IsNaN(row[i]) ? "NaN" : float.IsInfinity(row[i]) ? row[i].ToString() : $"{row[i]}, outside the float16 range ±65504 of the feature store";
            throw new InvalidDataException($"Column '{_columnName}' row {sourceRow} ({where}) is {what}; features must be finite numbers.");
        }
    }

    private void OpenCacheFile(string cacheDirectory)
    {
        Directory.CreateDirectory(cacheDirectory);
        RemoveAbandonedPartials(cacheDirectory);
        _fileTempPath = Path.Combine(cacheDirectory, $"coca-features-{Guid.NewGuid():N}.partial");
        _filePath = _fileTempPath;
        _file = File.OpenHandle(_fileTempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
    }

    /// <summary>
    /// Deletes the <c>*.partial</c> files a killed run left in <paramref name="cacheDirectory"/>. A run still writing
    /// one holds it open exclusively (FileShare.None: a lock other processes see), so only abandoned ones are removed.
    /// </summary>
    internal static void RemoveAbandonedPartials(string cacheDirectory) => AtomicFile.RemoveAbandoned(cacheDirectory, "coca-features-*.partial");

    private void SpillToTemporaryFile()
    {
        Directory.CreateDirectory(_tempDirectory);
        _filePath = Path.Combine(_tempDirectory, $"coca-features-{Guid.NewGuid():N}.f16");
        _file = File.OpenHandle(_filePath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        // On Unix the open file can lose its name at once: the OS frees it when the handle closes, even if the process
        // dies (DeleteOnClose alone deletes it only on a clean close there). Windows deletes on close either way.
        if (!OperatingSystem.IsWindows()) File.Delete(_filePath);
        int len = _shape.RowLength;
        for (int row = 0; row < _count; row++)
        {
            var src = _chunks[row / _rowsPerChunk].AsSpan(row % _rowsPerChunk * len, len);
            var bytes = MemoryMarshal.AsBytes(src);
            RandomAccess.Write(_file, bytes, FileFeatureStore.HeaderBytes + (long)row * bytes.Length);
        }
        _chunks.Clear();
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        if (_fileTempPath is not null && File.Exists(_fileTempPath)) File.Delete(_fileTempPath);
        _chunks.Clear();
    }
}

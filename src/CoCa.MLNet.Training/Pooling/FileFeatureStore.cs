using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Rows in a file: a 4 KiB header, then the float16 rows back to back. Rows are read with positional reads, so the
/// operating system's page cache keeps what fits in RAM while the process itself holds only the current mini-batch:
/// a dataset larger than RAM trains in bounded memory. (A memory-mapped view would count every page it touched in the
/// process's resident set until unmapped; positional reads from the page cache cost the same copy.)
/// </summary>
internal sealed class FileFeatureStore : FeatureStore
{
    public const int HeaderBytes = 4096;
    private static ReadOnlySpan<byte> Magic => "COCAF16\0"u8;
    private const int Version = 1;

    private readonly SafeFileHandle _handle;
    private readonly bool _ownsHandle;

    private FileFeatureStore(TokenShape shape, int count, SafeFileHandle handle, bool ownsHandle, string path) : base(shape, count)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        Path = path;
    }

    public string Path { get; }

    public override bool IsOnDisk => true;

    /// <summary>A store over rows already written to <paramref name="handle"/> after <see cref="HeaderBytes"/>.</summary>
    public static FileFeatureStore Wrap(TokenShape shape, int count, SafeFileHandle handle, string path) => new(shape, count, handle, ownsHandle: true, path);

    public override void ReadRow(int row, Span<Half> destination)
    {
        var bytes = MemoryMarshal.AsBytes(destination[..Shape.RowLength]);
        long offset = HeaderBytes + (long)row * bytes.Length;
        while (bytes.Length > 0)
        {
            int n = RandomAccess.Read(_handle, bytes, offset);
            if (n <= 0) throw new IOException($"Feature cache '{Path}' ended early (row {row}); it was truncated while in use.");
            bytes = bytes[n..];
            offset += n;
        }
    }

    public override void Dispose()
    {
        if (_ownsHandle) _handle.Dispose();
    }

    /// <summary>The header of a store file: shape, row count and the cache key it was written for.</summary>
    public static byte[] CreateHeader(TokenShape shape, long count, ReadOnlySpan<byte> key)
    {
        var h = new byte[HeaderBytes];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), Version);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), shape.Frames);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(16), shape.TokensPerFrame);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(20), shape.Dim);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(24), count);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(32), key.Length);
        key.CopyTo(h.AsSpan(36));
        return h;
    }

    /// <summary>
    /// Opens the cache file <paramref name="path"/> if it exists and was written, completely, for exactly this key, shape
    /// and row count; otherwise returns null (a stale or foreign file is never used).
    /// </summary>
    public static FileFeatureStore? TryOpen(string path, TokenShape shape, int count, ReadOnlySpan<byte> key)
    {
        if (!File.Exists(path)) return null;
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var header = new byte[HeaderBytes];
            if (RandomAccess.Read(handle, header, 0) != HeaderBytes || !header.AsSpan(0, 8).SequenceEqual(Magic)) return Reject();
            var expected = CreateHeader(shape, count, key);
            if (!header.AsSpan().SequenceEqual(expected)) return Reject();
            long expectedLength = HeaderBytes + (long)count * shape.RowLength * sizeof(ushort);
            if (RandomAccess.GetLength(handle) != expectedLength) return Reject();
            return new FileFeatureStore(shape, count, handle, ownsHandle: true, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        FileFeatureStore? Reject()
        {
            handle.Dispose();
            return null;
        }
    }
}

using CoCa.MLNet.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace CoCa.MLNet.Cli.Features;

/// <summary>An n-dimensional array read from or written to NumPy's .npy format (little-endian, C order).</summary>
internal sealed class NpyArray<T> where T : unmanaged
{
    public NpyArray(long[] shape, T[] data)
    {
        Shape = shape;
        Data = data;
    }

    public long[] Shape { get; }
    public T[] Data { get; }
}

/// <summary>Reads and writes NumPy .npy files (format 1.0/2.0) of float32, float64, int64 and int32.</summary>
internal static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray<float> ReadFloat32(string path) => Read<float>(path, "<f4");
    public static NpyArray<double> ReadFloat64(string path) => Read<double>(path, "<f8");
    public static NpyArray<long> ReadInt64(string path) => Read<long>(path, "<i8");

    /// <summary>Writes atomically: a temporary file beside <paramref name="path"/> is renamed into place.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, params long[] shape) => Write(path, data, "<f4", shape);
    public static void Write(string path, ReadOnlySpan<long> data, params long[] shape) => Write(path, data, "<i8", shape);

    /// <summary>The shape in a float32 .npy file's header, checking the file holds all its data (without reading it).</summary>
    internal static long[] ReadShape(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[12];
        if (stream.Read(head) < 10 || !head.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"'{path}' is not a .npy file (bad magic).");
        int headerLen = head[6] == 1 ? BitConverter.ToUInt16(head, 8) : (int)BitConverter.ToUInt32(head, 8);
        int offset = head[6] == 1 ? 10 : 12;
        var headerBytes = new byte[headerLen];
        stream.Position = offset;
        stream.ReadExactly(headerBytes);
        var header = Encoding.ASCII.GetString(headerBytes);
        if (DescrRegex().Match(header).Groups[1].Value != "<f4")
            throw new InvalidDataException($"'{path}' is not float32.");
        var shape = ShapeRegex().Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        if (stream.Length - offset - headerLen != shape.Aggregate(1L, (a, b) => a * b) * 4)
            throw new InvalidDataException($"'{path}' is truncated.");
        return shape;
    }

    private static NpyArray<T> Read<T>(string path, string expectedDescr) where T : unmanaged
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"NumPy file '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"'{path}' is not a .npy file (bad magic).");
        int major = bytes[6];
        int headerLen, offset;
        if (major == 1) { headerLen = BitConverter.ToUInt16(bytes, 8); offset = 10; }
        else { headerLen = (int)BitConverter.ToUInt32(bytes, 8); offset = 12; }
        var header = Encoding.ASCII.GetString(bytes, offset, headerLen);
        var descr = DescrRegex().Match(header).Groups[1].Value;
        if (descr != expectedDescr)
            throw new InvalidDataException($"'{path}' holds dtype '{descr}', expected '{expectedDescr}'.");
        if (header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"'{path}' is Fortran-ordered; only C order is supported.");
        var shapeText = ShapeRegex().Match(header).Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int dataStart = offset + headerLen;
        var data = new T[count];
        var byteCount = count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes.Length - dataStart < byteCount)
            throw new InvalidDataException($"'{path}' is truncated: shape [{string.Join(",", shape)}] needs {byteCount} bytes of data.");
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes.AsSpan(dataStart, (int)byteCount)).CopyTo(data);
        return new NpyArray<T>(shape, data);
    }

    private static void Write<T>(string path, ReadOnlySpan<T> data, string descr, long[] shape) where T : unmanaged
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {count} values but {data.Length} were given.");
        using var writer = new NpyStreamWriter(path, descr, shape);
        writer.Append(data);
        writer.Commit();
    }

    /// <summary>A version 1.0 header, padded to a multiple of 64 bytes and to at least <paramref name="length"/> bytes.</summary>
    internal static byte[] Header(string descr, long[] shape, int length = 0)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64 + Math.Max(0, length - total - (64 - total % 64) % 64);
        var header = dict + new string(' ', pad) + "\n";
        var bytes = new byte[10 + header.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        return bytes;
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}

/// <summary>
/// Writes a .npy file in pieces (e.g. one batch of features at a time) through an <see cref="AtomicFile"/> that
/// <see cref="Commit()"/> renames into place: an interrupted run leaves no half-written output.
/// </summary>
internal sealed class NpyStreamWriter : IDisposable
{
    private readonly AtomicFile _file;
    private readonly string _descr;
    private readonly long[] _shape;
    private readonly int _headerLength;
    private long _written;

    public NpyStreamWriter(string path, params long[] shape) : this(path, "<f4", shape) { }

    internal NpyStreamWriter(string path, string descr, long[] shape)
    {
        _descr = descr;
        _shape = shape;
        _file = new AtomicFile(path);
        var header = Npy.Header(descr, shape);
        _headerLength = header.Length;
        _file.Stream.Write(header);
    }

    public void Append<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        _file.Stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        _written += values.Length;
    }

    /// <summary>Checks every value arrived and moves the file into place.</summary>
    public void Commit() => Commit(_shape[0]);

    /// <summary>
    /// Moves the file into place holding the first <paramref name="rows"/> rows of the shape given at the start (fewer
    /// when some inputs could not be read): the header is rewritten to say so; every value of those rows must have arrived.
    /// </summary>
    public void Commit(long rows)
    {
        if (_shape.Length == 0 || rows < 0 || rows > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"'{_file.FinalPath}' has room for {(_shape.Length == 0 ? 0 : _shape[0])} rows.");
        long[] shape = [rows, .. _shape[1..]];
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (_written != expected)
            throw new InvalidOperationException($"'{_file.FinalPath}': {_written} values written, the header promises {expected}.");
        if (rows != _shape[0])
        {
            var header = Npy.Header(_descr, shape, _headerLength);
            _file.Stream.Position = 0;
            _file.Stream.Write(header);
        }
        _file.Commit();
    }

    public void Dispose() => _file.Dispose();
}

using System.Buffers.Binary;
using System.Text;

namespace CoCa.MLNet.Onnx;

/// <summary>
/// Protocol-buffers wire-format encoder (only what ONNX needs: varints, fixed32 floats, length-delimited fields).
/// A writer either counts bytes (no sink) or writes them to a <see cref="Stream"/>. Nested messages are
/// written by measuring their body with a counting writer first, so large payloads (initializers) are never
/// buffered: their bytes go straight from the source arrays to the stream.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int WireVarint = 0;
    private const int WireFixed32 = 5;
    private const int WireLengthDelimited = 2;

    private readonly Stream? _sink;
    private readonly byte[] _scratch = new byte[16];

    private ProtobufWriter(Stream? sink) => _sink = sink;

    /// <summary>Bytes written (or counted) so far.</summary>
    public long Position { get; private set; }

    public bool IsCounting => _sink is null;

    public static ProtobufWriter To(Stream sink) => new(sink ?? throw new ArgumentNullException(nameof(sink)));

    /// <summary>Size in bytes of what <paramref name="body"/> writes.</summary>
    public static long Measure(Action<ProtobufWriter> body)
    {
        var counter = new ProtobufWriter(null);
        body(counter);
        return counter.Position;
    }

    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public void WriteVarint(ulong value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            _scratch[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _scratch[n++] = (byte)value;
        WriteBytes(_scratch.AsSpan(0, n));
    }

    /// <summary>int64/int32/enum field (negative values take ten bytes, as protobuf specifies).</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireVarint);
        WriteVarint((ulong)value);
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireFixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_scratch, value);
        WriteBytes(_scratch.AsSpan(0, 4));
    }

    public void WriteString(int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>A bytes field of <paramref name="length"/> bytes whose content <paramref name="writeContent"/> streams.</summary>
    public void WriteBytesField(int field, long length, Action<Stream> writeContent)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)length);
        if (_sink is null)
        {
            Position += length;
            return;
        }
        long start = _sink.CanSeek ? _sink.Position : -1;
        writeContent(_sink);
        if (start >= 0 && _sink.Position - start != length)
            throw new InvalidOperationException($"Protobuf bytes field {field}: announced {length} bytes, wrote {_sink.Position - start}.");
        Position += length;
    }

    /// <summary>An embedded message: its size is measured first, then its body is written.</summary>
    public void WriteMessage(int field, Action<ProtobufWriter> body)
    {
        long size = Measure(body);
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)size);
        if (_sink is null)
        {
            Position += size;
            return;
        }
        long before = Position;
        body(this);
        if (Position - before != size)
            throw new InvalidOperationException($"Protobuf message field {field}: measured {size} bytes, wrote {Position - before}.");
    }

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        _sink?.Write(bytes);
        Position += bytes.Length;
    }
}

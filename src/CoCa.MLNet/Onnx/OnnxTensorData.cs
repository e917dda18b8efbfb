using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CoCa.MLNet.Onnx;

/// <summary>
/// The values of an initializer, written as little-endian <c>raw_data</c>. Implementations reference their
/// source arrays and stream bytes on demand: a model's weights are never copied into an intermediate buffer,
/// and transposed weights are produced block by block while writing.
/// </summary>
internal abstract class OnnxTensorData
{
    private const int ChunkElements = 1 << 16;

    public abstract OnnxDataType DataType { get; }
    public abstract long ElementCount { get; }
    public long ByteLength => ElementCount * ElementSize(DataType);

    /// <summary>Writes exactly <see cref="ByteLength"/> little-endian bytes.</summary>
    internal abstract void WriteRaw(Stream stream);

    /// <summary>Float32 values as they are (no copy; a slice of a larger array is fine).</summary>
    public static OnnxTensorData Float(ReadOnlyMemory<float> values) => new FloatValues(values);

    /// <summary>Int8 values as they are (quantized weights).</summary>
    public static OnnxTensorData Int8(ReadOnlyMemory<sbyte> values) => new Int8Values(values);

    /// <summary>Int64 values as they are.</summary>
    public static OnnxTensorData Int64(ReadOnlyMemory<long> values) => new Int64Values(values);

    /// <summary>
    /// The transpose of the row-major matrix <paramref name="matrix"/> [<paramref name="rows"/>, <paramref name="columns"/>],
    /// i.e. [columns, rows]; computed while writing. Used for PyTorch Linear weights [out, in] → MatMul's [in, out].
    /// </summary>
    public static OnnxTensorData Transposed(ReadOnlyMemory<float> matrix, int rows, int columns)
    {
        if ((long)rows * columns != matrix.Length)
            throw new ArgumentException($"A [{rows}, {columns}] matrix holds {(long)rows * columns} values, {matrix.Length} were given.", nameof(matrix));
        return new TransposedFloatValues(matrix, rows, columns);
    }

    internal static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 => 4,
        OnnxDataType.Int64 => 8,
        OnnxDataType.Bool or OnnxDataType.Int8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ONNX data type."),
    };

    /// <summary>Writes <paramref name="values"/> little-endian, converting on big-endian hosts.</summary>
    private protected static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        var ints = MemoryMarshal.Cast<float, int>(values);
        var buffer = ArrayPool<int>.Shared.Rent(Math.Min(ints.Length, ChunkElements));
        try
        {
            for (int start = 0; start < ints.Length; start += buffer.Length)
            {
                var chunk = ints.Slice(start, Math.Min(buffer.Length, ints.Length - start));
                BinaryPrimitives.ReverseEndianness(chunk, buffer);
                stream.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, chunk.Length)));
            }
        }
        finally { ArrayPool<int>.Shared.Return(buffer); }
    }

    private sealed class FloatValues(ReadOnlyMemory<float> values) : OnnxTensorData
    {
        public override OnnxDataType DataType => OnnxDataType.Float;
        public override long ElementCount => values.Length;
        internal override void WriteRaw(Stream stream) => WriteLittleEndian(stream, values.Span);
    }

    private sealed class Int8Values(ReadOnlyMemory<sbyte> values) : OnnxTensorData
    {
        public override OnnxDataType DataType => OnnxDataType.Int8;
        public override long ElementCount => values.Length;
        internal override void WriteRaw(Stream stream) => stream.Write(MemoryMarshal.AsBytes(values.Span));
    }

    private sealed class Int64Values(ReadOnlyMemory<long> values) : OnnxTensorData
    {
        public override OnnxDataType DataType => OnnxDataType.Int64;
        public override long ElementCount => values.Length;

        internal override void WriteRaw(Stream stream)
        {
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(values.Span));
                return;
            }
            var swapped = new long[values.Length];
            BinaryPrimitives.ReverseEndianness(values.Span, swapped);
            stream.Write(MemoryMarshal.AsBytes(swapped.AsSpan()));
        }
    }

    private sealed class TransposedFloatValues(ReadOnlyMemory<float> matrix, int rows, int columns) : OnnxTensorData
    {
        public override OnnxDataType DataType => OnnxDataType.Float;
        public override long ElementCount => (long)rows * columns;

        internal override void WriteRaw(Stream stream)
        {
            // Output row c is input column c. Fill a block of output rows at a time: the reads of each input row
            // segment are contiguous, the writes stay inside a cache-sized buffer.
            int block = Math.Max(1, Math.Min(columns, ChunkElements / Math.Max(1, rows)));
            var buffer = ArrayPool<float>.Shared.Rent(block * rows);
            try
            {
                var src = matrix.Span;
                for (int c0 = 0; c0 < columns; c0 += block)
                {
                    int cn = Math.Min(block, columns - c0);
                    var dst = buffer.AsSpan(0, cn * rows);
                    for (int r = 0; r < rows; r++)
                    {
                        var srcRow = src.Slice(r * columns + c0, cn);
                        for (int c = 0; c < cn; c++) dst[c * rows + r] = srcRow[c];
                    }
                    WriteLittleEndian(stream, dst);
                }
            }
            finally { ArrayPool<float>.Shared.Return(buffer); }
        }
    }
}

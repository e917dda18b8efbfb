using System.Runtime.InteropServices;
using CoCa.MLNet.IO;
using System.Text.Json;

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// Writes float32 tensors as a Hugging Face .safetensors file (8-byte little-endian header length, JSON header padded
/// with spaces to a multiple of 8, then the raw little-endian data in header order). The file appears atomically:
/// it is written to a temporary file beside the target and renamed over it.
/// </summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, StateDict stateDict, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, stateDict.Values, metadata);

    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(string path, IEnumerable<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var list = UniqueTensors(tensors);
        AtomicFile.Write(path, stream => WriteTo(stream, list, metadata), flushToDisk: true);
    }

    /// <summary>Writes the safetensors bytes to <paramref name="stream"/> (e.g. an entry of a model package).</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(Stream stream, IEnumerable<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteTo(stream, UniqueTensors(tensors), metadata);
    }

    private static List<CheckpointTensor> UniqueTensors(IEnumerable<CheckpointTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
            if (!seen.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice; safetensors names are unique.", nameof(tensors));
        return list;
    }

    private static void WriteTo(Stream stream, List<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = BuildHeader(tensors, metadata);
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var t in tensors) WriteLittleEndian(stream, t.Data);
    }

    private static byte[] BuildHeader(List<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                long bytes = (long)t.Data.Length * sizeof(float);
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned, as the safetensors reference writer does.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        header.AsSpan((int)buffer.Length).Fill((byte)' ');
        return header;
    }

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var bytes = new byte[data.Length * sizeof(float)];
        for (int i = 0; i < data.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
        stream.Write(bytes);
    }
}

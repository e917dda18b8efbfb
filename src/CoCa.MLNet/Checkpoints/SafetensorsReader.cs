using System.Text.Json;

namespace CoCa.MLNet.Checkpoints;

/// <summary>Reads Hugging Face .safetensors files (8-byte header length, JSON header, raw little-endian data).</summary>
public static class SafetensorsReader
{
    public static StateDict Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static StateDict Read(Stream stream, string source)
    {
        Span<byte> lenBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lenBytes, 8, throwOnEndOfStream: false) != 8)
            throw new CheckpointException($"'{source}' is not a safetensors file: shorter than its 8-byte header length.");
        var headerLen = BitConverter.ToUInt64(lenBytes);
        if (headerLen == 0 || headerLen > 100_000_000 || (long)headerLen > stream.Length - 8)
            throw new CheckpointException($"'{source}' is not a safetensors file: header length {headerLen} is implausible.");
        var header = new byte[headerLen];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLen;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new CheckpointException($"'{source}' is not a safetensors file: its header is not JSON ({e.Message}).", e); }

        var tensors = new List<CheckpointTensor>();
        using (doc)
        {
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var dtypeText = entry.Value.GetProperty("dtype").GetString()!;
                var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var dtype = ParseDType(dtypeText, entry.Name, source);
                long count = shape.Aggregate(1L, (a, b) => a * b);
                int elem = TensorConversion.ElementSize(dtype);
                if (offsets[1] - offsets[0] != count * elem)
                    throw new CheckpointException($"'{source}': tensor '{entry.Name}' has {offsets[1] - offsets[0]} bytes, shape {string.Join("x", shape)} of {dtypeText} needs {count * elem}.");
                var raw = new byte[offsets[1] - offsets[0]];
                stream.Position = dataStart + offsets[0];
                stream.ReadExactly(raw);
                tensors.Add(new CheckpointTensor(entry.Name, shape, TensorConversion.ToFloat32(raw, dtype), dtype));
            }
        }
        return new StateDict(tensors, source);
    }

    private static CheckpointDType ParseDType(string dtype, string name, string source) => dtype switch
    {
        "F32" => CheckpointDType.Float32,
        "F16" => CheckpointDType.Float16,
        "BF16" => CheckpointDType.BFloat16,
        "F64" => CheckpointDType.Float64,
        "I64" => CheckpointDType.Int64,
        "I32" => CheckpointDType.Int32,
        "U8" => CheckpointDType.UInt8,
        "BOOL" => CheckpointDType.Bool,
        _ => throw new CheckpointException($"'{source}': tensor '{name}' has unsupported dtype {dtype}."),
    };
}

/// <summary>Little-endian raw element bytes → float32.</summary>
public static class TensorConversion
{
    public static int ElementSize(CheckpointDType t) => t switch
    {
        CheckpointDType.Float32 or CheckpointDType.Int32 => 4,
        CheckpointDType.Float16 or CheckpointDType.BFloat16 => 2,
        CheckpointDType.Float64 or CheckpointDType.Int64 => 8,
        _ => 1,
    };

    public static float[] ToFloat32(ReadOnlySpan<byte> raw, CheckpointDType t)
    {
        int n = raw.Length / ElementSize(t);
        var result = new float[n];
        switch (t)
        {
            case CheckpointDType.Float32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                break;
            case CheckpointDType.Float16:
                var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(raw);
                for (int i = 0; i < n; i++) result[i] = (float)halves[i];
                break;
            case CheckpointDType.BFloat16:
                var shorts = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(raw);
                for (int i = 0; i < n; i++) result[i] = BitConverter.Int32BitsToSingle(shorts[i] << 16);
                break;
            case CheckpointDType.Float64:
                var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(raw);
                for (int i = 0; i < n; i++) result[i] = (float)doubles[i];
                break;
            case CheckpointDType.Int64:
                var longs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw);
                for (int i = 0; i < n; i++) result[i] = longs[i];
                break;
            case CheckpointDType.Int32:
                var ints = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(raw);
                for (int i = 0; i < n; i++) result[i] = ints[i];
                break;
            default:
                for (int i = 0; i < n; i++) result[i] = raw[i];
                break;
        }
        return result;
    }
}

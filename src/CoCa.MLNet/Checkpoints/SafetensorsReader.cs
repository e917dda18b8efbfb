using System.Text.Json;

namespace CoCa.MLNet.Checkpoints;

/// <summary>Reads Hugging Face .safetensors files (8-byte header length, JSON header, raw little-endian data).</summary>
internal static class SafetensorsReader
{
    public static StateDict Read(string path) => Read(path, include: null);

    /// <summary>Reads the tensors whose names pass <paramref name="include"/>; the others' bytes are skipped.</summary>
    public static StateDict Read(string path, Func<string, bool>? include)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path, include);
    }

    public static StateDict Read(Stream stream, string source) => Read(stream, source, include: null);

    public static StateDict Read(Stream stream, string source, Func<string, bool>? include)
    {
        Span<byte> lenBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lenBytes, 8, throwOnEndOfStream: false) != 8)
            throw new CheckpointException($"'{source}' is not a safetensors file: shorter than its 8-byte header length.");
        var headerLen = BitConverter.ToUInt64(lenBytes);
        if (headerLen == 0 || headerLen > 100_000_000 || (long)headerLen > stream.Length - 8)
            throw new CheckpointException($"'{source}' is not a safetensors file: header length {headerLen} is implausible (truncated or not safetensors).");
        var header = new byte[headerLen];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLen;
        long dataLength = stream.Length - dataStart;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new CheckpointException($"'{source}' is not a safetensors file: its header is not JSON ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e); }

        var entries = new List<(string Name, CheckpointDType DType, long[] Shape, long Begin, long End)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"'{source}' is not a safetensors file: its header is not a JSON object.");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                try
                {
                    var dtypeText = entry.Value.GetProperty("dtype").GetString()!;
                    var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var dtype = ParseDType(dtypeText, entry.Name, source);
                    if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || shape.Any(d => d < 0))
                        throw new CheckpointException($"'{source}': tensor '{entry.Name}' has invalid data_offsets or shape.");
                    long count = shape.Aggregate(1L, (a, b) => checked(a * b));
                    int elem = TensorConversion.ElementSize(dtype);
                    if (offsets[1] - offsets[0] != count * elem)
                        throw new CheckpointException($"'{source}': tensor '{entry.Name}' has {offsets[1] - offsets[0]} bytes, shape {string.Join("x", shape)} of {dtypeText} needs {count * elem}.");
                    if (offsets[1] > dataLength)
                        throw new CheckpointException($"'{source}': tensor '{entry.Name}' ends at data byte {offsets[1]} but the file has only {dataLength} data bytes; the file is truncated.");
                    entries.Add((entry.Name, dtype, shape, offsets[0], offsets[1]));
                }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
                {
                    throw new CheckpointException($"'{source}': header entry for tensor '{entry.Name}' is malformed ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
                }
            }
        }

        var strip = StateDictKeys.ModulePrefixStripper(entries.Select(e => e.Name).ToList());
        var tensors = new List<CheckpointTensor>();
        foreach (var e in entries)
        {
            var name = strip(e.Name);
            if (include is not null && !include(name)) continue;
            stream.Position = dataStart + e.Begin;
            float[] values;
            if (e.DType == CheckpointDType.Float32 && BitConverter.IsLittleEndian)
            {
                // Read float32 straight into the result: no second copy of the biggest tensors.
                values = new float[(e.End - e.Begin) / sizeof(float)];
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                var raw = new byte[e.End - e.Begin];
                stream.ReadExactly(raw);
                values = TensorConversion.ToFloat32(raw, e.DType);
            }
            tensors.Add(new CheckpointTensor(name, e.Shape, values, e.DType));
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
internal static class TensorConversion
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

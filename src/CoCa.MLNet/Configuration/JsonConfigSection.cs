using System.Text.Json;

namespace CoCa.MLNet.Configuration;

/// <summary>
/// Typed, defaulting access to one JSON object of an open_clip config (e.g. <c>vision_cfg</c>), with errors that
/// name the file and the dotted field path. Absent and <c>null</c> fields both mean "open_clip's default".
/// </summary>
internal readonly struct JsonConfigSection
{
    private readonly JsonElement _element;
    private readonly string _path;
    private readonly string _source;

    public JsonConfigSection(JsonElement element, string path, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new CoCaConfigException($"open_clip config '{source}': {(path.Length == 0 ? "the root" : path)} must be a JSON object, got {element.ValueKind}.");
        _element = element;
        _path = path;
        _source = source;
    }

    public string FieldPath(string field) => _path.Length == 0 ? field : _path + "." + field;

    public CoCaConfigException Error(string field, string problem) =>
        new($"open_clip config '{_source}': {FieldPath(field)} {problem}");

    /// <summary>The field's value, or null when it is absent or JSON null.</summary>
    public JsonElement? Find(string field) =>
        _element.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public bool Has(string field) => Find(field) is not null;

    public JsonConfigSection? Section(string field) =>
        Find(field) is { } v ? new JsonConfigSection(v, FieldPath(field), _source) : null;

    public int PositiveInt(string field, int defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i > 0) return i;
        throw Error(field, $"must be a positive integer, got {v.GetRawText()}.");
    }

    public int NonNegativeInt(string field, int defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= 0) return i;
        throw Error(field, $"must be a non-negative integer, got {v.GetRawText()}.");
    }

    /// <summary>An int, or a [h, w] pair with h == w (open_clip's to_2tuple accepts both).</summary>
    public int SquareSize(string field, int defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.Array)
        {
            var items = v.EnumerateArray().ToArray();
            if (items.Length == 2 && items[0].TryGetInt32(out var h) && items[1].TryGetInt32(out var w) && h > 0 && h == w)
                return h;
            throw Error(field, $"is {v.GetRawText()}; CoCa.MLNet supports only square sizes (one positive integer or [n, n]).");
        }
        return PositiveInt(field, defaultValue);
    }

    public double PositiveDouble(string field, double defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0) return v.GetDouble();
        throw Error(field, $"must be a positive number, got {v.GetRawText()}.");
    }

    public bool Bool(string field, bool defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(field, $"must be true or false, got {v.GetRawText()}."),
        };
    }

    public string String(string field, string defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        throw Error(field, $"must be a string, got {v.GetRawText()}.");
    }

    /// <summary>Three per-channel numbers; a single number means the same value for R, G and B.</summary>
    public float[] Channels(string field, float[] defaultValue)
    {
        if (Find(field) is not { } v) return defaultValue;
        if (v.ValueKind == JsonValueKind.Number) { var x = (float)v.GetDouble(); return [x, x, x]; }
        if (v.ValueKind == JsonValueKind.Array)
        {
            var items = v.EnumerateArray().ToArray();
            if (items.Length == 3 && items.All(e => e.ValueKind == JsonValueKind.Number))
                return items.Select(e => (float)e.GetDouble()).ToArray();
        }
        throw Error(field, $"must be 3 numbers (R, G, B), got {v.GetRawText()}.");
    }

    /// <summary>Throws when a field that changes the network (and is not implemented) is set to anything but its default.</summary>
    public void RequireUnset(string field, string why)
    {
        if (Find(field) is not { } v) return;
        bool isDefault = v.ValueKind switch
        {
            JsonValueKind.False => true,
            JsonValueKind.Object => !v.EnumerateObject().Any(),
            JsonValueKind.String => v.GetString()!.Length == 0,
            _ => false,
        };
        if (!isDefault) throw Error(field, $"is {v.GetRawText()}; {why}");
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CoCa.MLNet.IO;

/// <summary>
/// JSON options for the library's own files (coca.json, model packages, ONNX metadata, vocab.json). The type-info
/// resolver is set explicitly: C# file-based apps (and other AOT-leaning projects) turn reflection-based
/// serialization off by default, and our files must still read and write there.
/// </summary>
internal static class CoCaJson
{
    /// <summary>Default naming, compact: for data whose keys are not ours to name.</summary>
    public static readonly JsonSerializerOptions Plain = Create(snakeCase: false);

    public static JsonSerializerOptions Create(bool indented = false, bool snakeCase = true, bool ignoreNulls = false) => new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        WriteIndented = indented,
        PropertyNamingPolicy = snakeCase ? JsonNamingPolicy.SnakeCaseLower : null,
        DefaultIgnoreCondition = ignoreNulls ? JsonIgnoreCondition.WhenWritingNull : JsonIgnoreCondition.Never,
    };
}

using CoCa.MLNet.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Onnx;

/// <summary>The metadata_props keys CoCa.MLNet writes into its ONNX models.</summary>
internal static class CoCaOnnxMetadata
{
    /// <summary>Which part of CoCa the model is: "vision", later "text", "pooler".</summary>
    public const string KindKey = "coca.mlnet.kind";

    /// <summary>The <see cref="CoCaModelConfig"/> the model was built from, as snake_case JSON.</summary>
    public const string ConfigKey = "coca.mlnet.config";

    /// <summary>Numbers of a vision model: "float32" or "int8" (see <see cref="VisionPrecision"/>).</summary>
    public const string PrecisionKey = "coca.mlnet.precision";

    public const string VisionKind = "vision";

    public const string TextKind = "text";

    private static readonly JsonSerializerOptions Json = CoCaJson.Create(ignoreNulls: true);

    public static string ConfigJson(CoCaModelConfig config) => JsonSerializer.Serialize(config, Json);

    public static CoCaModelConfig? ParseConfig(string json) => JsonSerializer.Deserialize<CoCaModelConfig>(json, Json);
}

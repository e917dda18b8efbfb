using CoCa.MLNet.IO;
using System.Text.Json.Nodes;

namespace CoCa.MLNet.Configuration;

/// <summary>
/// Writes a <see cref="CoCaModelConfig"/> as open_clip's hub <c>open_clip_config.json</c>
/// (<c>model_cfg</c> + <c>preprocess_cfg</c>), the form <see cref="CoCaConfigs.FromOpenClipConfigFile"/> reads back.
/// </summary>
// Internal: only the fine-tuner's output folder (CoCaCheckpointFolder) and CoCa.MLNet.Demo write configs; users bring open_clip's JSON.
internal static class OpenClipConfigWriter
{
    public static string ToJson(CoCaModelConfig c)
    {
        var v = c.Vision;
        var t = c.Text;
        var m = c.Multimodal;
        var root = new JsonObject
        {
            ["model_cfg"] = new JsonObject
            {
                ["embed_dim"] = c.EmbedDim,
                ["quick_gelu"] = c.QuickGelu,
                ["vision_cfg"] = new JsonObject
                {
                    ["image_size"] = v.ImageSize,
                    ["layers"] = v.Layers,
                    ["width"] = v.Width,
                    ["head_width"] = v.HeadWidth,
                    ["mlp_ratio"] = v.MlpRatio,
                    ["patch_size"] = v.PatchSize,
                    ["attentional_pool"] = true,
                    ["attn_pooler_queries"] = v.AttnPoolerQueries,
                    ["attn_pooler_heads"] = v.AttnPoolerHeads,
                    ["output_tokens"] = true,
                },
                ["text_cfg"] = new JsonObject
                {
                    ["context_length"] = t.ContextLength,
                    ["vocab_size"] = t.VocabSize,
                    ["width"] = t.Width,
                    ["heads"] = t.Heads,
                    ["layers"] = t.Layers,
                    ["mlp_ratio"] = t.MlpRatio,
                    ["embed_cls"] = t.EmbedCls,
                    ["pad_id"] = t.PadId,
                    ["output_tokens"] = true,
                },
                ["multimodal_cfg"] = new JsonObject
                {
                    ["context_length"] = m.ContextLength,
                    ["vocab_size"] = m.VocabSize,
                    ["width"] = m.Width,
                    ["heads"] = m.Heads,
                    ["layers"] = m.Layers,
                },
                ["custom_text"] = true,
            },
            ["preprocess_cfg"] = new JsonObject
            {
                ["size"] = c.Preprocess.ImageSize,
                ["mean"] = new JsonArray(c.Preprocess.Mean.Select(x => (JsonNode)(double)x).ToArray()),
                ["std"] = new JsonArray(c.Preprocess.Std.Select(x => (JsonNode)(double)x).ToArray()),
                ["interpolation"] = c.Preprocess.Interpolation,
                ["resize_mode"] = c.Preprocess.ResizeMode,
            },
        };
        return root.ToJsonString(CoCaJson.Create(indented: true, snakeCase: false));
    }

    /// <summary>Writes <c>open_clip_config.json</c> into <paramref name="directory"/>.</summary>
    public static string Write(CoCaModelConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "open_clip_config.json");
        AtomicFile.WriteAllText(path, ToJson(config));
        return path;
    }
}

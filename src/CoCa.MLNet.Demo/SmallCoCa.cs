using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Demo;

/// <summary>
/// A small CoCa with random weights and open_clip's architecture (coca_ViT-B-32, scaled down), written as a Hugging
/// Face hub folder (open_clip_config.json + open_clip_model.safetensors): what the samples use when no
/// <c>--checkpoint</c> is given, so they run without a download. Random weights make features without meaning.
/// </summary>
public static class SmallCoCa
{
    public static CoCaModelConfig Config(int imageSize = 96, int width = 96, int layers = 3)
    {
        var b32 = CoCaConfigs.Get("coca_ViT-B-32");
        return b32 with
        {
            Name = "coca_small_random",
            EmbedDim = 64,
            Vision = b32.Vision with { ImageSize = imageSize, PatchSize = 16, Width = width, Layers = layers, HeadWidth = 32, AttnPoolerQueries = 16, AttnPoolerHeads = 2 },
            Text = b32.Text with { Width = 64, Heads = 2, Layers = 2 },
            Multimodal = b32.Multimodal with { Width = 64, Heads = 2, Layers = 2 },
            Preprocess = b32.Preprocess with { ImageSize = imageSize },
        };
    }

    /// <summary>Writes the checkpoint folder and returns its path.</summary>
    public static string WriteHubFolder(string folder, CoCaModelConfig config, int seed, bool includeText = true, bool includeDecoder = false)
    {
        SafetensorsWriter.Write(Path.Combine(folder, "open_clip_model.safetensors"), RandomCoCaCheckpoint.Create(config, seed, includeText, includeDecoder));
        OpenClipConfigWriter.Write(config, folder);
        return folder;
    }
}

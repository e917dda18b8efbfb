using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Samples;

/// <summary>
/// The smallest CoCa that can caption (embed_dim = text width = decoder width = 32) with CLIP's vocabulary and 32²
/// images: what the fine-tuning tests and benchmark train from scratch in seconds.
/// </summary>
public static class TinyCoCa
{
    public static CoCaModelConfig Config { get; } = new()
    {
        Name = "coca_tiny_pictures",
        EmbedDim = 32,
        Vision = new VisionConfig { ImageSize = 32, Layers = 2, Width = 48, PatchSize = 8, HeadWidth = 16, AttnPoolerQueries = 5, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 12, VocabSize = 49408, Width = 32, Heads = 2, Layers = 2 },
        Multimodal = new MultimodalConfig { ContextLength = 12, VocabSize = 49408, Width = 32, Heads = 2, Layers = 1 },
        Preprocess = new PreprocessConfig { ImageSize = 32 },
    };
}

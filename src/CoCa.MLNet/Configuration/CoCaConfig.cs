using System.Text.Json.Serialization;

namespace CoCa.MLNet.Configuration;

/// <summary>open_clip's <c>vision_cfg</c> for a CoCa model (only the fields CoCa uses).</summary>
public sealed record VisionConfig
{
    public int ImageSize { get; init; } = 224;
    public int Layers { get; init; } = 12;
    public int Width { get; init; } = 768;
    public int PatchSize { get; init; } = 16;
    public int HeadWidth { get; init; } = 64;
    public double MlpRatio { get; init; } = 4.0;
    public bool AttentionalPool { get; init; } = true;
    public int AttnPoolerQueries { get; init; } = 256;
    public int AttnPoolerHeads { get; init; } = 8;
    public bool OutputTokens { get; init; } = true;

    [JsonIgnore]
    public int Heads => Width / HeadWidth;
    [JsonIgnore]
    public int MlpWidth => (int)(Width * MlpRatio);
    [JsonIgnore]
    public int GridSize => ImageSize / PatchSize;
    /// <summary>Tokens out of the residual blocks: class token + grid².</summary>
    [JsonIgnore]
    public int TokenCount => 1 + GridSize * GridSize;
}

/// <summary>open_clip's <c>text_cfg</c> (unimodal text tower).</summary>
public sealed record TextConfig
{
    public int ContextLength { get; init; } = 76;
    public int VocabSize { get; init; } = 49408;
    public int Width { get; init; } = 512;
    public int Heads { get; init; } = 8;
    public int Layers { get; init; } = 12;
    public double MlpRatio { get; init; } = 4.0;
    public bool EmbedCls { get; init; } = true;
    public int PadId { get; init; }
    [JsonIgnore]
    public int MlpWidth => (int)(Width * MlpRatio);
}

/// <summary>open_clip's <c>multimodal_cfg</c> (captioning decoder; read for completeness).</summary>
public sealed record MultimodalConfig
{
    public int ContextLength { get; init; } = 76;
    public int VocabSize { get; init; } = 49408;
    public int Width { get; init; } = 512;
    public int Heads { get; init; } = 8;
    public int Layers { get; init; } = 12;
}

/// <summary>open_clip's <c>preprocess_cfg</c>.</summary>
public sealed record PreprocessConfig
{
    public static readonly float[] OpenAIMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] OpenAIStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public float[] Mean { get; init; } = OpenAIMean;
    public float[] Std { get; init; } = OpenAIStd;
    public string Interpolation { get; init; } = "bicubic";
    public string ResizeMode { get; init; } = "shortest";
    /// <summary>Output side in pixels (open_clip takes it from vision_cfg.image_size).</summary>
    public int ImageSize { get; init; } = 224;
}

/// <summary>A whole CoCa model configuration, as in open_clip's model_configs / open_clip_config.json.</summary>
public sealed record CoCaModelConfig
{
    public string Name { get; init; } = "coca";
    public int EmbedDim { get; init; } = 512;
    public VisionConfig Vision { get; init; } = new();
    public TextConfig Text { get; init; } = new();
    public MultimodalConfig Multimodal { get; init; } = new();
    public PreprocessConfig Preprocess { get; init; } = new();
    /// <summary>open_clip's <c>quick_gelu</c>: x·σ(1.702x) instead of the exact erf GELU in every MLP (false for the CoCa configs).</summary>
    public bool QuickGelu { get; init; }

    /// <summary>Whether open_clip's captioning decoder fits this configuration (<see cref="CaptioningUnsupportedReason"/> says why not).</summary>
    [JsonIgnore]
    public bool CanCaption => CaptioningUnsupportedReason is null;

    /// <summary>
    /// Null when this configuration can caption, else why not, in one sentence (open_clip's own requirement: the decoder
    /// reads the text tower's tokens and cross-attends to the embed_dim-wide caption tokens with square projections).
    /// The one answer to "can this checkpoint caption?": the converter, the captioner and the trainers ask it.
    /// </summary>
    [JsonIgnore]
    public string? CaptioningUnsupportedReason
    {
        get
        {
            var (t, m) = (Text, Multimodal);
            if (t.Width != m.Width || m.Width != EmbedDim)
                return $"CoCa '{Name}' cannot caption: open_clip's captioning decoder needs text width = multimodal width = embed_dim " +
                    $"(it reads the text tower's token outputs and cross-attends to the embed_dim-wide caption tokens), but this model has " +
                    $"text width {t.Width}, multimodal width {m.Width} and embed_dim {EmbedDim}.";
            if (Vision.AttnPoolerQueries < 2)
                return $"CoCa '{Name}' cannot caption: vision_cfg.attn_pooler_queries is {Vision.AttnPoolerQueries}, which leaves no caption tokens (the first query is the contrastive one).";
            if (m.Layers < 1 || m.Heads < 1 || m.Width % m.Heads != 0 || t.Heads < 1 || t.Width % t.Heads != 0)
                return $"CoCa '{Name}' cannot caption: multimodal_cfg needs layers ≥ 1 and widths divisible into heads (text {t.Width}/{t.Heads}, multimodal {m.Width}/{m.Heads}, layers {m.Layers}).";
            if (m.VocabSize != t.VocabSize)
                return $"CoCa '{Name}' cannot caption: multimodal vocab_size {m.VocabSize} differs from the text tower's {t.VocabSize}.";
            return null;
        }
    }
}

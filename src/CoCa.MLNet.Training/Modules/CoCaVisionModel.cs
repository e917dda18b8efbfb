using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Training.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's CoCa vision tower (<c>model.visual</c>) in TorchSharp: the ViT trunk, the attentional pooler
/// <c>attn_pool</c>, <c>ln_post</c> (embed_dim) and <c>proj</c> [d, d]. Parameter names equal open_clip's state-dict
/// names below <c>visual.</c>, so checkpoints load by name (<see cref="FromStateDict"/>).
/// </summary>
/// <remarks>
/// forward(pixels [N, 3, S, S]) returns
/// <list type="bullet">
/// <item><c>Tokens</c> [N, 1+g², w]: the output of the last residual block (no LayerNorm; the frozen features);</item>
/// <item><c>ImageEmbedding</c> [N, d]: <c>ln_post(attn_pool(tokens))[:, 0] @ proj</c>, not L2-normalised
/// (open_clip's <c>encode_image(normalize=True)</c> normalises afterwards).</item>
/// </list>
/// Run inference under <c>torch.inference_mode()</c> or <c>torch.no_grad()</c>.
/// </remarks>
public sealed class CoCaVisionModel : VisionTransformerTower<(Tensor Tokens, Tensor ImageEmbedding)>
{
    /// <summary>The state-dict prefix of the vision tower in open_clip CoCa checkpoints.</summary>
    public const string StateDictPrefix = "visual.";

    private readonly VisionAttentionalPooler attn_pool;
    private readonly LayerNorm ln_post;
    private readonly Parameter proj;

    /// <summary>Builds the tower with placeholder weights; use <see cref="FromStateDict"/> to load a checkpoint.</summary>
    public CoCaVisionModel(CoCaModelConfig config) : base(nameof(CoCaVisionModel), (config ?? throw new ArgumentNullException(nameof(config))).Vision)
    {
        var v = config.Vision;
        if (!v.AttentionalPool)
            throw new ArgumentException("Vision config has attentional_pool = false; the CoCa tower needs the attentional pooler.", nameof(config));
        if (config.EmbedDim <= 0)
            throw new ArgumentException($"embed_dim must be positive, got {config.EmbedDim}.", nameof(config));
        if (v.AttnPoolerHeads <= 0 || config.EmbedDim % v.AttnPoolerHeads != 0)
            throw new ArgumentException($"embed_dim {config.EmbedDim} is not divisible by attn_pooler_heads {v.AttnPoolerHeads}.", nameof(config));
        Config = config;
        attn_pool = new VisionAttentionalPooler(config.EmbedDim, v.Width, v.AttnPoolerHeads, v.AttnPoolerQueries);
        ln_post = nn.LayerNorm(config.EmbedDim, eps: 1e-5);
        proj = new Parameter(torch.zeros(config.EmbedDim, config.EmbedDim));
        RegisterComponents();
    }

    public CoCaModelConfig Config { get; }

    /// <param name="pixels">Normalised pixels [N, 3, S, S], S = vision image_size.</param>
    public override (Tensor Tokens, Tensor ImageEmbedding) forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var (tokens, embedding, _) = Encode(pixels);
        return scope.MoveToOuter(tokens, embedding);
    }

    /// <summary>
    /// The whole tower: the ViT tokens, the contrastive embedding (query 0 of the pooler after <c>ln_post</c>,
    /// <c>@ proj</c>, not normalised) and the caption tokens [N, Q−1, d] (queries 1.. after <c>ln_post</c>, not
    /// projected): what open_clip's multimodal decoder cross-attends to. open_clip's CoCa (<c>attentional_pool: true</c>)
    /// has one pooler whose first query is the contrastive one, not the paper's two cascaded poolers.
    /// </summary>
    public (Tensor Tokens, Tensor ImageEmbedding, Tensor CaptionTokens) Encode(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var tokens = EncodeTokens(pixels);
        var pooled = ln_post.forward(attn_pool.forward(tokens));
        var embedding = MixedPrecision.Widen(MixedPrecision.MatMul(pooled.select(1, 0), proj));
        var captionTokens = pooled.narrow(1, 1, pooled.shape[1] - 1);
        return scope.MoveToOuter(tokens, embedding, captionTokens);
    }

    /// <summary>
    /// Builds the tower for <paramref name="config"/> and copies every parameter from <paramref name="stateDict"/>
    /// (keys <c>visual.&lt;name&gt;</c>). Throws <see cref="CheckpointException"/> naming the key and expected shape for a
    /// missing or mis-shaped tensor, and listing the <c>visual.</c> keys the model did not use (a config that does not
    /// fit the checkpoint, e.g. fewer layers). The model is returned in eval mode on <paramref name="device"/> (CPU by default).
    /// </summary>
    internal static CoCaVisionModel FromStateDict(CoCaModelConfig config, StateDict stateDict, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var model = new CoCaVisionModel(config);
        try
        {
            ModuleStateLoader.Load(model, stateDict, StateDictPrefix);
            if (device is not null && device.type != DeviceType.CPU) model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

using CoCa.MLNet.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// The ViT trunk of open_clip's <c>VisionTransformer</c>: <c>conv1</c> (patchify, no bias), <c>class_embedding</c> [w]
/// prepended as token 0, learnable <c>positional_embedding</c> [1+g², w], <c>ln_pre</c>, then
/// <c>transformer.resblocks.N</c>. No LayerNorm follows the last block: its output is the frozen-feature token grid.
/// </summary>
/// <remarks>
/// open_clip keeps trunk and head in one module, so its state-dict names are flat (<c>visual.conv1.weight</c> next to
/// <c>visual.attn_pool.query</c>). Heads therefore derive from this class instead of containing it: the trunk's
/// parameters stay at the top level of the final module, and TorchSharp's <c>to(device)</c>, which re-binds
/// parameters through fields, keeps working. The fields are protected for that reason (TorchSharp finds protected
/// base fields by reflection, not private ones). A derived class must call <c>RegisterComponents()</c> at the end of its
/// constructor, after its own fields are set.
/// </remarks>
/// <typeparam name="TOutput">What the derived module's forward returns.</typeparam>
public abstract class VisionTransformerTower<TOutput> : nn.Module<Tensor, TOutput>
{
    protected readonly Conv2d conv1;
    protected readonly Parameter class_embedding;
    protected readonly Parameter positional_embedding;
    protected readonly LayerNorm ln_pre;
    private protected readonly TransformerStack transformer;

    protected VisionTransformerTower(string name, VisionConfig vision) : base(name)
    {
        ArgumentNullException.ThrowIfNull(vision);
        Validate(vision);
        VisionConfig = vision;
        conv1 = nn.Conv2d(3, vision.Width, kernel_size: vision.PatchSize, stride: vision.PatchSize, bias: false);
        class_embedding = new Parameter(torch.zeros(vision.Width));
        positional_embedding = new Parameter(torch.zeros(vision.TokenCount, vision.Width));
        ln_pre = nn.LayerNorm(vision.Width, eps: 1e-5);
        transformer = new TransformerStack(vision.Width, vision.Layers, vision.Heads, vision.MlpWidth);
    }

    /// <summary>The configuration the trunk was built for.</summary>
    public VisionConfig VisionConfig { get; }

    /// <summary>The trunk's configuration: <see cref="VisionConfig"/>.</summary>
    [Obsolete("Use VisionConfig (model.Visual.VisionConfig reads better than model.Visual.Vision).")]
    public VisionConfig Vision => VisionConfig;

    /// <summary>Checkpoint the residual blocks' activations while training (<see cref="ActivationCheckpoint"/>).</summary>
    internal bool CheckpointActivations
    {
        get => transformer.CheckpointActivations;
        set => transformer.CheckpointActivations = value;
    }

    /// <summary>Pixels [N, 3, S, S] (already normalised) → tokens [N, 1+g², w], the last block's output.</summary>
    protected Tensor EncodeTokens(Tensor pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        int s = VisionConfig.ImageSize;
        if (pixels.dim() != 4 || pixels.shape[1] != 3 || pixels.shape[2] != s || pixels.shape[3] != s)
            throw new ArgumentException(
                $"Pixels must have shape [N, 3, {s}, {s}], got [{string.Join(", ", pixels.shape)}].", nameof(pixels));
        using var scope = NewDisposeScope();
        var tokens = transformer.forward(Embed(pixels));
        return scope.MoveToOuter(tokens);
    }

    /// <summary>The stem: patchify, class token, positions, <c>ln_pre</c> → the first block's input [N, 1+g², w].</summary>
    internal Tensor Embed(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        long n = pixels.shape[0];
        // [N, w, g, g] → [N, g², w]: patches in row-major (y, x) order, as open_clip's reshape + permute.
        var patches = MixedPrecision.Widen(MixedPrecision.Conv2d(pixels, conv1.weight!, VisionConfig.PatchSize)).flatten(2).transpose(1, 2);
        var cls = class_embedding.view(1, 1, -1).expand(n, 1, -1);
        var x = TorchScalars.Add(torch.cat([cls, patches], 1), positional_embedding);
        return scope.MoveToOuter(ln_pre.forward(x));
    }

    /// <summary>Residual blocks <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 of the trunk.</summary>
    internal Tensor RunBlocks(Tensor x, int first, int count) => transformer.forward(x, null, first, count);

    /// <summary>The stem's parameters (state-dict names), trained with the first block.</summary>
    internal IEnumerable<(string Name, Parameter Parameter)> StemParameters() =>
        named_parameters().Where(p => !p.name.StartsWith("transformer.", StringComparison.Ordinal) && IsTrunk(p.name));

    /// <summary>Block <paramref name="index"/>'s parameters (state-dict names).</summary>
    internal IEnumerable<(string Name, Parameter Parameter)> BlockParameters(int index)
    {
        var prefix = $"transformer.resblocks.{index}.";
        return named_parameters().Where(p => p.name.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static bool IsTrunk(string name) =>
        name.StartsWith("conv1.", StringComparison.Ordinal) || name is "class_embedding" or "positional_embedding" || name.StartsWith("ln_pre.", StringComparison.Ordinal);

    private static void Validate(VisionConfig v)
    {
        const string paramName = "vision";
        if (v.Width <= 0 || v.Layers <= 0 || v.PatchSize <= 0 || v.ImageSize <= 0 || v.HeadWidth <= 0)
            throw new ArgumentException($"Vision config has a non-positive size: width {v.Width}, layers {v.Layers}, patch {v.PatchSize}, image {v.ImageSize}, head width {v.HeadWidth}.", paramName);
        if (v.ImageSize % v.PatchSize != 0)
            throw new ArgumentException($"Vision image_size {v.ImageSize} is not a multiple of patch_size {v.PatchSize}.", paramName);
        if (v.Width % v.HeadWidth != 0)
            throw new ArgumentException($"Vision width {v.Width} is not a multiple of head_width {v.HeadWidth}.", paramName);
        if (v.MlpWidth <= 0)
            throw new ArgumentException($"Vision mlp_ratio {v.MlpRatio} gives no MLP width.", paramName);
    }
}

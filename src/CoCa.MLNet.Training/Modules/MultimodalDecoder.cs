using CoCa.MLNet.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's <c>MultimodalTransformer</c> (<c>model.text_decoder</c>): for each layer a causal self-attention block
/// (<c>resblocks.i</c>) then a cross-attention block (<c>cross_attn.i</c>) over the image's caption tokens; then
/// <c>ln_final</c> and <c>text_projection</c> [w, vocab] to next-token logits. It has no embeddings of its own: its
/// input is the text tower's token outputs.
/// </summary>
public sealed class MultimodalDecoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<ResidualAttentionBlock> resblocks;
    private readonly ModuleList<CrossAttentionBlock> cross_attn;
    private readonly LayerNorm ln_final;
    private readonly Parameter text_projection;

    public MultimodalDecoder(MultimodalConfig config) : base(nameof(MultimodalDecoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Layers <= 0) throw new ArgumentException($"Multimodal layers must be positive, got {config.Layers}.", nameof(config));
        if (config.Width <= 0 || config.Heads <= 0 || config.Width % config.Heads != 0)
            throw new ArgumentException($"Multimodal width {config.Width} is not divisible by heads {config.Heads}.", nameof(config));
        Config = config;
        int mlpWidth = config.Width * 4; // open_clip's MultimodalCfg mlp_ratio default (4.0); CoCa configs do not change it.
        resblocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new ResidualAttentionBlock(config.Width, config.Heads, mlpWidth)).ToArray());
        cross_attn = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new CrossAttentionBlock(config.Width, config.Heads, mlpWidth)).ToArray());
        ln_final = nn.LayerNorm(config.Width, eps: 1e-5);
        text_projection = new Parameter(torch.zeros(config.Width, config.VocabSize));
        RegisterComponents();
    }

    public MultimodalConfig Config { get; }

    /// <summary>While training, keep only each block's inputs and recompute the block in the backward pass (<see cref="ActivationCheckpoint"/>).</summary>
    internal bool CheckpointActivations { get; set; }

    /// <param name="imageTokens">The captioning pooler's outputs [N, T, w] (after ln_post; w must equal the decoder width).</param>
    /// <param name="textTokens">The text tower's token outputs [N, L, w].</param>
    /// <returns>Logits [N, L, vocab]: position i predicts token i+1.</returns>
    public override Tensor forward(Tensor imageTokens, Tensor textTokens)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Project(Blocks(imageTokens, textTokens)));
    }

    /// <summary>
    /// The logits [N, vocab] of the last position only: what decoding needs at each step (the projection to the
    /// vocabulary, the largest matrix, runs for one position instead of L).
    /// </summary>
    public Tensor LastPositionLogits(Tensor imageTokens, Tensor textTokens)
    {
        using var scope = NewDisposeScope();
        var x = Blocks(imageTokens, textTokens);
        return scope.MoveToOuter(Project(x.select(1, x.shape[1] - 1)));
    }

    /// <summary>ln_final, then the projection to the vocabulary (in the mixed precision's matrix product, widened back).</summary>
    internal Tensor Project(Tensor x) => MixedPrecision.Widen(MixedPrecision.MatMul(FinalNorm(x), text_projection));

    /// <summary>ln_final: the projection's input (the trainers' caption loss projects it a few rows at a time).</summary>
    internal Tensor FinalNorm(Tensor x) => ln_final.forward(x);

    /// <summary>text_projection [w, vocab], the projection to the vocabulary.</summary>
    internal Tensor VocabularyProjection => text_projection;

    /// <summary>The self- and cross-attention blocks' output [N, L, w], before ln_final and the projection to the vocabulary.</summary>
    internal Tensor Blocks(Tensor imageTokens, Tensor textTokens)
    {
        ArgumentNullException.ThrowIfNull(imageTokens);
        ArgumentNullException.ThrowIfNull(textTokens);
        if (imageTokens.shape[^1] != Config.Width || textTokens.shape[^1] != Config.Width)
            throw new ArgumentException(
                $"The multimodal decoder is {Config.Width} wide but got image tokens {imageTokens.shape[^1]} and text tokens {textTokens.shape[^1]} wide; " +
                "open_clip's CoCa captions only when embed_dim, the text width and the multimodal width are equal.");
        using var scope = NewDisposeScope();
        using var negativeInfinity = float.NegativeInfinity.ToScalar();
        long length = textTokens.shape[1];
        var mask = torch.zeros(length, length, dtype: textTokens.dtype, device: textTokens.device)
            .masked_fill(torch.ones(length, length, dtype: ScalarType.Bool, device: textTokens.device).triu(1), negativeInfinity);
        var x = textTokens;
        for (int i = 0; i < resblocks.Count; i++)
        {
            var (self, cross) = (resblocks[i], cross_attn[i]);
            if (CheckpointActivations)
            {
                x = ActivationCheckpoint.Run(inputs => self.forward(inputs[0]!, inputs[1]), [x, mask], self.parameters());
                x = ActivationCheckpoint.Run(inputs => cross.forward(inputs[0]!, inputs[1]!), [x, imageTokens], cross.parameters());
            }
            else
            {
                x = self.forward(x, mask);
                x = cross.forward(x, imageTokens);
            }
        }
        return scope.MoveToOuter(x);
    }
}

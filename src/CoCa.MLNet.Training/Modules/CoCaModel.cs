using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Training.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>What <see cref="CoCaModel.forward"/> computes for a batch of image–text pairs.</summary>
/// <param name="ImageEmbedding">[N, E] contrastive image embedding (not normalised).</param>
/// <param name="TextEmbedding">[N, E] contrastive text embedding (not normalised).</param>
/// <param name="Logits">[N, L−1, vocab]: the multimodal decoder's next-token logits for the text without its last
/// position (open_clip ≥ 2.26: position i predicts id i+1).</param>
/// <param name="LogitScale">The scalar parameter <c>logit_scale</c> (the contrastive temperature is its exp).</param>
public readonly record struct CoCaForward(Tensor ImageEmbedding, Tensor TextEmbedding, Tensor Logits, Tensor LogitScale);

/// <summary>
/// The whole open_clip CoCa in TorchSharp: <c>visual</c> (ViT, attentional pooler, ln_post, proj), <c>text</c>
/// (unimodal decoder), <c>text_decoder</c> (multimodal decoder) and <c>logit_scale</c>. Parameter names are exactly
/// open_clip's state-dict names, so any open_clip CoCa checkpoint loads (<see cref="FromStateDict"/>) and the model
/// writes one back (<see cref="ToStateDict"/>, <see cref="CoCaCheckpointFolder"/>).
/// </summary>
public sealed class CoCaModel : nn.Module<Tensor, Tensor, CoCaForward>
{
    private readonly CoCaVisionModel visual;
    private readonly TextTransformer text;
    private readonly MultimodalDecoder text_decoder;
    private readonly Parameter logit_scale;

    /// <summary>Builds the model with placeholder weights (zeros): load a checkpoint or run <see cref="CoCaInitializer"/>.</summary>
    public CoCaModel(CoCaModelConfig config) : base(nameof(CoCaModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.QuickGelu)
            throw new ArgumentException("quick_gelu is set in the config; CoCa.MLNet's TorchSharp CoCa implements the exact GELU that CoCa configs use.", nameof(config));
        Config = config;
        visual = new CoCaVisionModel(config);
        text = new TextTransformer(config.Text, config.EmbedDim);
        text_decoder = new MultimodalDecoder(config.Multimodal);
        logit_scale = new Parameter(torch.tensor(2.6592600369262695f)); // ln(1/0.07), open_clip's init
        RegisterComponents();
    }

    public CoCaModelConfig Config { get; }

    /// <summary>The vision tower (<c>visual.*</c>).</summary>
    public CoCaVisionModel Visual => visual;

    /// <summary>The unimodal text tower (<c>text.*</c>).</summary>
    public TextTransformer Text => text;

    /// <summary>The multimodal decoder (<c>text_decoder.*</c>).</summary>
    public MultimodalDecoder TextDecoder => text_decoder;

    /// <summary>The scalar <c>logit_scale</c> parameter.</summary>
    public Parameter LogitScale => logit_scale;

    /// <summary>
    /// Checkpoint the activations of every transformer block of the vision tower, the text tower and the multimodal
    /// decoder while training: each block keeps only its inputs and runs again in the backward pass (less memory, one
    /// more forward pass per step; the gradients are the same).
    /// </summary>
    internal bool CheckpointActivations
    {
        get => visual.CheckpointActivations;
        set => visual.CheckpointActivations = text.CheckpointActivations = text_decoder.CheckpointActivations = value;
    }

    /// <summary>Whether the decoder can run: <see cref="CoCaModelConfig.CanCaption"/> (the one answer, on the configuration).</summary>
    [Obsolete("Use Config.CanCaption (CoCaModelConfig.CanCaption), which also checks the pooler queries, heads and vocabularies.")]
    public bool CanCaption => Config.CanCaption;

    /// <param name="pixels">Normalised pixels [N, 3, S, S].</param>
    /// <param name="ids">Token ids [N, L] (L ≥ 2), padded with pad_id.</param>
    public override CoCaForward forward(Tensor pixels, Tensor ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.dim() != 2 || ids.shape[1] < 2)
            throw new ArgumentException($"Text ids must have shape [N, L] with L ≥ 2 (a caption needs a next token), got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (pixels.shape[0] != ids.shape[0])
            throw new ArgumentException($"Got {pixels.shape[0]} images but {ids.shape[0]} texts; CoCa trains on pairs.");
        using var scope = NewDisposeScope();
        var (_, imageEmbedding, captionTokens) = visual.Encode(pixels);
        var (ie, te, lg) = TextHalf(imageEmbedding, captionTokens, ids);
        var (i, t, l) = scope.MoveToOuter(ie, te, lg);
        return new CoCaForward(i, t, l, logit_scale);
    }

    /// <summary>
    /// <see cref="forward"/> for pairs whose images repeat (several captions per image): the distinct images
    /// <paramref name="pixels"/> [M, 3, S, S] go through the vision tower once, and row n of <paramref name="ids"/> [N, L]
    /// is paired with image <paramref name="imageOfRow"/>[n] (int64 [N]). The outputs are per row, as forward's.
    /// </summary>
    public CoCaForward ForwardSharedImages(Tensor pixels, Tensor ids, Tensor imageOfRow)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(imageOfRow);
        if (ids.dim() != 2 || ids.shape[1] < 2)
            throw new ArgumentException($"Text ids must have shape [N, L] with L ≥ 2 (a caption needs a next token), got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (imageOfRow.dim() != 1 || imageOfRow.shape[0] != ids.shape[0])
            throw new ArgumentException($"Got {ids.shape[0]} texts but {imageOfRow.shape[0]} image indices; give one image index per text.", nameof(imageOfRow));
        using var scope = NewDisposeScope();
        var (_, imageEmbedding, captionTokens) = visual.Encode(pixels);
        var (ie, te, lg) = TextHalf(imageEmbedding.index_select(0, imageOfRow), captionTokens.index_select(0, imageOfRow), ids);
        var (i, t, l) = scope.MoveToOuter(ie, te, lg);
        return new CoCaForward(i, t, l, logit_scale);
    }

    // The unimodal text tower and the multimodal decoder over the vision tower's outputs, one row per pair.
    /// <summary>
    /// The training forward pass without the vocabulary logits: the embeddings and the decoder's last hidden states
    /// [N, L−1, w] before ln_final, for <see cref="FineTuning.CoCaObjective.ComputeFromNormalizedHidden"/>, which
    /// projects them to the vocabulary a few rows at a time (the [N, L−1, V] logits, the largest activation, never exist whole).
    /// </summary>
    internal (Tensor ImageEmbedding, Tensor TextEmbedding, Tensor DecoderHidden) ForwardHidden(Tensor pixels, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (_, imageEmbedding, captionTokens) = visual.Encode(pixels);
        var (textEmbedding, tokenOutputs) = text.forward(ids);
        var hidden = text_decoder.Blocks(captionTokens, tokenOutputs.narrow(1, 0, tokenOutputs.shape[1] - 1));
        var (i, t, h) = scope.MoveToOuter(imageEmbedding, textEmbedding, hidden);
        return (i, t, h);
    }

    private (Tensor ImageEmbedding, Tensor TextEmbedding, Tensor Logits) TextHalf(Tensor imageEmbedding, Tensor captionTokens, Tensor ids)
    {
        var (textEmbedding, tokenOutputs) = text.forward(ids);
        var logits = text_decoder.forward(captionTokens, tokenOutputs.narrow(1, 0, tokenOutputs.shape[1] - 1));
        return (imageEmbedding, textEmbedding, logits);
    }

    /// <summary>
    /// Next-token logits [N, L, vocab] of the multimodal decoder for <paramref name="ids"/> [N, L] (no padding needed;
    /// position i predicts id i+1), given the caption tokens of <see cref="CoCaVisionModel.Encode"/>.
    /// </summary>
    public Tensor CaptionLogits(Tensor captionTokens, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (_, tokenOutputs) = text.forward(ids);
        return scope.MoveToOuter(text_decoder.forward(captionTokens, tokenOutputs));
    }

    /// <summary>
    /// The multimodal decoder's logits [N, vocab] for the token after the last of <paramref name="ids"/> [N, L] (no
    /// padding needed), given the caption tokens of <see cref="CoCaVisionModel.Encode"/>: one decoding step.
    /// </summary>
    public Tensor NextTokenLogits(Tensor captionTokens, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (_, tokenOutputs) = text.forward(ids);
        return scope.MoveToOuter(text_decoder.LastPositionLogits(captionTokens, tokenOutputs));
    }

    /// <summary>
    /// Builds the model for <paramref name="config"/> and copies every tensor from <paramref name="stateDict"/> by its
    /// open_clip name; a missing or mis-shaped tensor, or a checkpoint tensor the model has no place for, is a
    /// <see cref="CheckpointException"/> naming it. Returned in train mode on CPU (CoCa has no dropout).
    /// </summary>
    internal static CoCaModel FromStateDict(CoCaModelConfig config, StateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var model = new CoCaModel(config);
        try
        {
            ModuleStateLoader.Load(model, stateDict, "");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Every parameter as an open_clip state-dict entry (float32, row-major), in the module's order.</summary>
    internal StateDict ToStateDict(string source = "CoCa.MLNet")
    {
        var tensors = new List<CheckpointTensor>();
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named_parameters())
            {
                using var cpu = parameter.detach().to(ScalarType.Float32).cpu().contiguous();
                tensors.Add(new CheckpointTensor(name, cpu.shape, cpu.data<float>().ToArray()));
            }
        }
        return new StateDict(tensors, source);
    }
}

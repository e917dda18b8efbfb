using CoCa.MLNet.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's CoCa text tower (<c>model.text</c>, the unimodal decoder): <c>token_embedding</c>, the learned
/// <c>cls_emb</c> appended after the L tokens, <c>positional_embedding</c> [context+1, w], pre-LN residual blocks under
/// a causal mask plus open_clip's padding mask for the cls row, <c>ln_final</c> on the cls output and
/// <c>text_projection</c> [w, embed_dim].
/// </summary>
/// <remarks>
/// The cls row's padding mask is open_clip's legacy <c>build_cls_mask</c> (v2.x; v3 keeps it by default): key 0 is
/// always visible and key j ≥ 1 is visible iff token j−1 is not padding — shifted by one, so the cls token sees the
/// first padding position (and itself only when the last token is not padding). Other rows are plainly causal.
/// The token outputs (for the multimodal decoder) are the last block's outputs at positions 0..L−1, without ln_final.
/// </remarks>
public sealed class TextTransformer : nn.Module<Tensor, (Tensor TextEmbedding, Tensor TokenOutputs)>
{
    private readonly Embedding token_embedding;
    private readonly Parameter positional_embedding;
    private readonly Parameter cls_emb;
    private readonly TransformerStack transformer;
    private readonly LayerNorm ln_final;
    private readonly Parameter text_projection;

    public TextTransformer(TextConfig text, int embedDim) : base(nameof(TextTransformer))
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.EmbedCls) throw new ArgumentException("CoCa's text tower needs embed_cls = true.", nameof(text));
        if (text.Width <= 0 || text.Heads <= 0 || text.Width % text.Heads != 0)
            throw new ArgumentException($"Text width {text.Width} is not divisible by heads {text.Heads}.", nameof(text));
        Config = text;
        token_embedding = nn.Embedding(text.VocabSize, text.Width);
        positional_embedding = new Parameter(torch.zeros(text.ContextLength + 1, text.Width));
        cls_emb = new Parameter(torch.zeros(text.Width));
        transformer = new TransformerStack(text.Width, text.Layers, text.Heads, text.MlpWidth);
        ln_final = nn.LayerNorm(text.Width, eps: 1e-5);
        text_projection = new Parameter(torch.zeros(text.Width, embedDim));
        RegisterComponents();
    }

    public TextConfig Config { get; }

    /// <summary>The text tower's configuration: <see cref="Config"/>.</summary>
    [Obsolete("Use Config (model.Text.Config reads better than model.Text.Text).")]
    public TextConfig Text => Config;

    /// <summary>Checkpoint the residual blocks' activations while training (<see cref="ActivationCheckpoint"/>).</summary>
    internal bool CheckpointActivations
    {
        get => transformer.CheckpointActivations;
        set => transformer.CheckpointActivations = value;
    }

    /// <param name="ids">Token ids [N, L], L ≤ context_length, padded with pad_id (open_clip's tokenizer output).</param>
    /// <returns>The text embedding [N, embed_dim] (not normalised) and the token outputs [N, L, w].</returns>
    public override (Tensor TextEmbedding, Tensor TokenOutputs) forward(Tensor ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.dim() != 2 || ids.shape[1] < 1 || ids.shape[1] > Config.ContextLength)
            throw new ArgumentException(
                $"Text ids must have shape [N, L] with 1 ≤ L ≤ {Config.ContextLength}, got [{string.Join(", ", ids.shape)}].", nameof(ids));
        using var scope = NewDisposeScope();
        long n = ids.shape[0], length = ids.shape[1], seq = length + 1;
        var tokens = token_embedding.forward(ids);
        var x = TorchScalars.Add(torch.cat([tokens, cls_emb.view(1, 1, -1).expand(n, 1, -1)], 1), positional_embedding.narrow(0, 0, seq));
        x = transformer.forward(x, AttentionMask(ids, seq, x.dtype));
        var embedding = MixedPrecision.Widen(MixedPrecision.MatMul(ln_final.forward(x.select(1, length)), text_projection));
        var tokenOutputs = x.narrow(1, 0, length);
        return scope.MoveToOuter(embedding, tokenOutputs);
    }

    /// <summary>Additive mask [N, 1, L+1, L+1]: causal for every row; the cls row (last) follows build_cls_mask.</summary>
    private Tensor AttentionMask(Tensor ids, long seq, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var negativeInfinity = float.NegativeInfinity.ToScalar();
        long n = ids.shape[0];
        var future = torch.ones(seq, seq, dtype: ScalarType.Bool, device: ids.device).triu(1);
        var blocked = future.unsqueeze(0).repeat(n, 1, 1);
        var padded = ids.eq(PadScalar());
        var clsRow = torch.cat([torch.zeros(n, 1, dtype: ScalarType.Bool, device: ids.device), padded], 1);
        blocked.select(1, seq - 1).copy_(clsRow);
        var mask = torch.zeros(n, seq, seq, dtype: dtype, device: ids.device).masked_fill(blocked, negativeInfinity);
        return scope.MoveToOuter(mask.unsqueeze(1));
    }

    private Scalar PadScalar() => _padScalar ??= ((long)Config.PadId).ToScalar();
    private Scalar? _padScalar;

    protected override void Dispose(bool disposing)
    {
        if (disposing) _padScalar?.Dispose();
        base.Dispose(disposing);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's <c>ResidualAttentionBlock(is_cross_attention=True)</c> of the multimodal decoder:
/// <c>x + attn(q = ln_1(x), k = v = ln_1_kv(context))</c>, then <c>x + mlp(ln_2(x))</c>. No mask: every text position
/// sees every image token. The context must be as wide as the decoder (open_clip's CoCa requires embed_dim = width).
/// </summary>
internal sealed class CrossAttentionBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly PackedMultiheadAttention attn;
    private readonly LayerNorm ln_1_kv;
    private readonly LayerNorm ln_2;
    private readonly TransformerMlp mlp;

    public CrossAttentionBlock(int width, int heads, int mlpWidth) : base(nameof(CrossAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width, eps: 1e-5);
        attn = new PackedMultiheadAttention(width, heads);
        ln_1_kv = nn.LayerNorm(width, eps: 1e-5);
        ln_2 = nn.LayerNorm(width, eps: 1e-5);
        mlp = new TransformerMlp(width, mlpWidth);
        RegisterComponents();
    }

    /// <param name="x">Text tokens [N, L, w].</param>
    /// <param name="context">Image tokens [N, T, w] (the captioning pooler's outputs).</param>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var afterAttention = TorchScalars.Add(x, attn.Attend(ln_1.forward(x), ln_1_kv.forward(context), null));
        var afterMlp = TorchScalars.Add(afterAttention, mlp.forward(ln_2.forward(afterAttention)));
        return scope.MoveToOuter(afterMlp);
    }
}

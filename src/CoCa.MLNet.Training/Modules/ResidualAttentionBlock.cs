using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's pre-LN transformer block: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.
/// Layer norms use eps 1e-5; CoCa sets no layer scale, so the residual adds are plain.
/// </summary>
internal sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly PackedMultiheadAttention attn;
    private readonly LayerNorm ln_2;
    private readonly TransformerMlp mlp;

    public ResidualAttentionBlock(int width, int heads, int mlpWidth) : base(nameof(ResidualAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width, eps: 1e-5);
        attn = new PackedMultiheadAttention(width, heads);
        ln_2 = nn.LayerNorm(width, eps: 1e-5);
        mlp = new TransformerMlp(width, mlpWidth);
        RegisterComponents();
    }

    /// <param name="x">Tokens [N, L, w].</param>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">Tokens [N, L, w].</param>
    /// <param name="mask">Additive attention mask ([L, L] or [N, 1, L, L]), or null.</param>
    public Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var afterAttention = TorchScalars.Add(x, attn.forward(ln_1.forward(x), mask));
        var afterMlp = TorchScalars.Add(afterAttention, mlp.forward(ln_2.forward(afterAttention)));
        return scope.MoveToOuter(afterMlp);
    }
}

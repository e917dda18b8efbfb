using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's <c>Transformer</c>: <c>resblocks.0 … resblocks.{layers-1}</c> applied in order
/// (a ModuleList names its items by index, which gives exactly open_clip's keys).
/// </summary>
public sealed class TransformerStack : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResidualAttentionBlock> resblocks;

    public TransformerStack(int width, int layers, int heads, int mlpWidth) : base(nameof(TransformerStack))
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "A transformer needs at least one layer.");
        resblocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, mlpWidth)).ToArray());
        RegisterComponents();
    }

    public int Layers => resblocks.Count;

    /// <param name="x">Tokens [N, L, w].</param>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">Tokens [N, L, w].</param>
    /// <param name="mask">Additive attention mask for every block ([L, L] or [N, 1, L, L]), or null.</param>
    public Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in resblocks) h = block.forward(h, mask);
        return scope.MoveToOuter(h);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's <c>Transformer</c>: <c>resblocks.0 … resblocks.{layers-1}</c> applied in order
/// (a ModuleList names its items by index, which gives exactly open_clip's keys).
/// </summary>
internal sealed class TransformerStack : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResidualAttentionBlock> resblocks;

    public TransformerStack(int width, int layers, int heads, int mlpWidth) : base(nameof(TransformerStack))
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "A transformer needs at least one layer.");
        resblocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, mlpWidth)).ToArray());
        RegisterComponents();
    }

    public int Layers => resblocks.Count;

    /// <summary>While training, keep only each block's input and recompute the block in the backward pass (<see cref="ActivationCheckpoint"/>).</summary>
    internal bool CheckpointActivations { get; set; }

    /// <param name="x">Tokens [N, L, w].</param>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">Tokens [N, L, w].</param>
    /// <param name="mask">Additive attention mask for every block ([L, L] or [N, 1, L, L]), or null.</param>
    public Tensor forward(Tensor x, Tensor? mask) => forward(x, mask, 0, resblocks.Count);

    /// <summary>Blocks <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 only (a fine-tuned classifier trains the top blocks over the cached output of the lower ones).</summary>
    public Tensor forward(Tensor x, Tensor? mask, int first, int count)
    {
        if (first < 0 || count < 0 || first + count > resblocks.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Blocks {first}..{first + count - 1} of a {resblocks.Count}-block transformer.");
        using var scope = NewDisposeScope();
        var h = x;
        for (int i = first; i < first + count; i++)
        {
            var block = resblocks[i];
            h = CheckpointActivations
                ? ActivationCheckpoint.Run(inputs => block.forward(inputs[0]!, inputs[1]), [h, mask], block.parameters())
                : block.forward(h, mask);
        }
        return ReferenceEquals(h, x) ? h : scope.MoveToOuter(h);
    }
}

namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>PyTorch <c>nn.LayerNorm</c> over the last axis: one opset-17 LayerNormalization node.</summary>
internal static class LayerNormBlock
{
    /// <summary>PyTorch's default epsilon (open_clip uses it everywhere).</summary>
    public const float DefaultEpsilon = 1e-5f;

    public static string Apply(OnnxGraphBuilder g, string x, NamedTensor weight, NamedTensor bias, float epsilon = DefaultEpsilon)
    {
        if (weight.Shape.Length != 1 || !bias.Shape.SequenceEqual(weight.Shape))
            throw new ArgumentException($"LayerNorm needs 1-D weight and bias of one size; got {weight} and {bias}.");
        return g.Node("LayerNormalization", [x, g.Weight(weight), g.Weight(bias)],
            OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", epsilon));
    }

    /// <summary>LayerNorm with <c>{prefix}.weight</c> and <c>{prefix}.bias</c> [<paramref name="size"/>] from the checkpoint.</summary>
    public static string Apply(OnnxGraphBuilder g, StateDictReader weights, string prefix, string x, long size, float epsilon = DefaultEpsilon) =>
        Apply(g, x, weights.Get(prefix + ".weight", size), weights.Get(prefix + ".bias", size), epsilon);
}

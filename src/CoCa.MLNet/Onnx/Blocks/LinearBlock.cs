namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// PyTorch <c>nn.Linear</c> (y = x Wᵀ + b) as MatMul with the weight transposed at build time, then Add.
/// Works on inputs of any rank ≥ 1 (the last axis is the feature axis); ONNX Runtime runs the MatMul as one GEMM.
/// </summary>
public static class LinearBlock
{
    /// <remarks>
    /// <paramref name="weight"/>: PyTorch layout [out, in].<br/>
    /// <paramref name="bias"/>: [out], or null for none.<br/>
    /// </remarks>
    public static string Apply(OnnxGraphBuilder g, string x, NamedTensor weight, NamedTensor? bias)
    {
        if (weight.Shape.Length != 2) throw new ArgumentException($"Linear weight {weight} must be 2-D [out, in].", nameof(weight));
        if (bias is { } b && (b.Shape.Length != 1 || b.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Linear bias {b} does not match weight {weight}.", nameof(bias));
        var y = g.MatMul(x, g.TransposedWeight(weight));
        return bias is { } bb ? g.Add(y, g.Weight(bb)) : y;
    }

    /// <summary>
    /// Right-multiplies by a matrix stored [in, out] (open_clip's <c>proj</c>/<c>text_projection</c> parameters: x @ P).
    /// </summary>
    public static string Project(OnnxGraphBuilder g, string x, NamedTensor projection)
    {
        if (projection.Shape.Length != 2) throw new ArgumentException($"Projection {projection} must be 2-D [in, out].", nameof(projection));
        return g.MatMul(x, g.Weight(projection));
    }

    /// <summary>Linear with <c>{prefix}.weight</c> [out, in] and <c>{prefix}.bias</c> [out] from the checkpoint.</summary>
    public static string Apply(OnnxGraphBuilder g, StateDictReader weights, string prefix, string x, long inFeatures, long outFeatures, bool bias = true) =>
        Apply(g, x, weights.Get(prefix + ".weight", outFeatures, inFeatures), bias ? weights.Get(prefix + ".bias", outFeatures) : null);
}

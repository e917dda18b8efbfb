namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// PyTorch <c>nn.Linear</c> (y = x Wᵀ + b) as MatMul with the weight transposed at build time, then Add.
/// Works on inputs of any rank ≥ 1 (the last axis is the feature axis); ONNX Runtime runs the MatMul as one GEMM.
/// </summary>
internal static class LinearBlock
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
        if (g.QuantizeLinearWeights) return Quantized(g, x, weight, bias);
        var y = g.MatMul(x, g.TransposedWeight(weight));
        return bias is { } bb ? g.Add(y, g.Weight(bb)) : y;
    }

    /// <summary>
    /// Dynamically quantized Linear: the weight [out, in] becomes int8 [in, out] with one symmetric scale per output
    /// channel (max |w| / 127, zero point 0); ONNX Runtime quantizes the activations per call (uint8, asymmetric) and
    /// runs an integer GEMM (VNNI where the CPU has it), then rescales and adds the float bias.
    /// </summary>
    private static string Quantized(OnnxGraphBuilder g, string x, NamedTensor weight, NamedTensor? bias)
    {
        int outputs = checked((int)weight.Shape[0]), inputs = checked((int)weight.Shape[1]);
        var (q, scales) = QuantizePerOutputChannel(weight.Data.Span, outputs, inputs);
        var qName = g.Initializer(weight.Name + ".int8", q, inputs, outputs);
        var scaleName = g.Initializer(weight.Name + ".scale", scales, outputs);
        return g.NodeInDomain(OnnxGraphBuilder.MicrosoftDomain, "DynamicQuantizeMatMul",
            bias is { } b ? [x, qName, scaleName, "", g.Weight(b)] : [x, qName, scaleName]);
    }

    /// <summary>Symmetric int8 per output channel: q[i, o] = round(w[o, i] / s[o]), s[o] = max_i |w[o, i]| / 127.</summary>
    internal static (sbyte[] Transposed, float[] Scales) QuantizePerOutputChannel(ReadOnlySpan<float> weight, int outputs, int inputs)
    {
        var q = new sbyte[(long)outputs * inputs];
        var scales = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            var row = weight.Slice(o * inputs, inputs);
            float max = 0;
            foreach (var w in row) max = Math.Max(max, Math.Abs(w));
            float scale = max > 0 ? max / 127f : 1f;
            scales[o] = scale;
            for (int i = 0; i < inputs; i++)
                q[(long)i * outputs + o] = (sbyte)Math.Clamp(MathF.Round(row[i] / scale, MidpointRounding.ToEven), -127, 127);
        }
        return (q, scales);
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

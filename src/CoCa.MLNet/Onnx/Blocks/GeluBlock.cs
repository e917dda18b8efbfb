namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>Activation functions of open_clip's MLPs.</summary>
internal static class GeluBlock
{
    /// <summary>
    /// Exact GELU, PyTorch's <c>nn.GELU()</c>: 0.5·x·(1 + erf(x/√2)). Written in the node order ONNX Runtime's
    /// GeluFusion recognises (Div → Erf → Add → Mul → Mul), so it runs as one fused Gelu (or BiasGelu) kernel.
    /// </summary>
    public static string Exact(OnnxGraphBuilder g, string x)
    {
        var erf = g.Erf(g.Div(x, g.ScalarFloat(MathF.Sqrt(2f))));
        return g.Mul(g.Mul(x, g.Add(erf, g.ScalarFloat(1f))), g.ScalarFloat(0.5f));
    }

    /// <summary>open_clip's <c>QuickGELU</c>: x·σ(1.702·x) (used by OpenAI-trained CLIP models, not by CoCa).</summary>
    public static string Quick(OnnxGraphBuilder g, string x) =>
        g.Mul(x, g.Node("Sigmoid", [g.Mul(x, g.ScalarFloat(1.702f))]));
}

using CoCa.MLNet.Pooling;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Pooling;

internal static class TensorTestExtensions
{
    public static double[] ToDoubles(this Tensor t) => t.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
}

/// <summary>
/// The reassociated attention ((W_kᵀq)·x, W_v Σ a x) must be the same function, with the same gradients, as
/// torch.nn.MultiheadAttention over the affine-normalised tokens.
/// </summary>
public class ReassociatedAttentionTests
{
    /// <summary>
    /// float32: max |Δ| ≤ 1e-5 relative to the tensor's largest magnitude (at least 1); float64: ≤ 1e-12, which shows the
    /// two formulations are the same function and the float32 differences are rounding.
    /// </summary>
    [Theory]
    [InlineData(1, 17, 32, 4, 1, false, false)]   // image tokens, one query
    [InlineData(3, 7, 32, 2, 3, true, false)]     // video: frames with frame embeddings, several queries
    [InlineData(1, 17, 32, 4, 1, false, true)]
    [InlineData(3, 7, 32, 2, 3, true, true)]
    public void ReassociatedPoolerEqualsMultiheadAttention_OutputsAndGradients(int frames, int tokensPerFrame, int dim, int heads, int queries, bool frameEmbeddings, bool float64)
    {
        var tol = float64 ? 1e-12 : 1e-5;
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        torch.manual_seed(7);
        var config = new AttentionalPoolerConfig
        {
            Frames = frames, TokensPerFrame = tokensPerFrame, Dim = dim, Heads = heads, Queries = queries, Classes = 5,
            FrameEmbeddings = frameEmbeddings,
        };
        using var ours = new AttentionalPoolerModule(config) { UseReassociation = true };
        // Move every parameter off its initial value so that no term can hide behind a one or a zero.
        using (torch.no_grad())
            foreach (var (_, p) in ours.NamedTensors())
                p.add_(torch.randn_like(p) * 0.5);
        var weights = ours.ExportWeights();
        using var reference = new MultiheadAttentionPoolerModule(config);
        var keyBias = Enumerable.Range(0, dim).Select(i => MathF.Sin(i)).ToArray();
        reference.LoadWeights(weights, keyBias);
        ours.to(dtype);
        reference.to(dtype);

        // Encoder-like tokens: offset and scaled, not unit-normal.
        using var tokens = (torch.randn(4, config.Tokens, dim) * 3 + 1).to(dtype);
        using var probe = torch.randn(4, config.Classes).to(dtype);

        using var oursPooled = ours.Pool(tokens);
        using var refPooled = reference.Pool(tokens);
        AssertClose(refPooled.ToDoubles(), oursPooled.ToDoubles(), tol, "pooled output");

        using var oursLogits = ours.forward(tokens);
        using var refLogits = reference.forward(tokens);
        AssertClose(refLogits.ToDoubles(), oursLogits.ToDoubles(), tol, "logits");

        (oursLogits * probe).sum().backward();
        (refLogits * probe).sum().backward();
        var refGrads = reference.GradientsByPoolerName();
        foreach (var (name, p) in ours.NamedTensors())
        {
            Assert.True(p.grad is not null, $"{name} got no gradient");
            AssertClose(refGrads[name], p.grad!.ToDoubles(), tol, $"gradient of {name}");
        }
        // The key bias cancels in the softmax: its gradient in the reference is zero.
        AssertClose(new double[dim], refGrads["k_proj.bias"], tol, "gradient of the key bias");
    }

    [Fact]
    public void ProjectedAndReassociatedPathsAgree()
    {
        torch.manual_seed(3);
        var config = new AttentionalPoolerConfig { Frames = 2, TokensPerFrame = 5, Dim = 16, Heads = 4, Queries = 8, Classes = 3, FrameEmbeddings = true };
        Assert.False(config.ReassociationIsCheaper); // 4 heads × 8 queries ≥ 16: projecting is cheaper here
        using var module = new AttentionalPoolerModule(config);
        using var tokens = torch.randn(3, config.Tokens, config.Dim);
        module.UseReassociation = true;
        using var a = module.forward(tokens);
        module.UseReassociation = false;
        using var b = module.forward(tokens);
        AssertClose(b.ToDoubles(), a.ToDoubles(), 1e-5, "logits");
    }

    /// <summary>max |Δ| ≤ tolerance · max(1, max |expected|).</summary>
    internal static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0, scale = 1; int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            double diff = Math.Abs(expected[i] - actual[i]);
            if (!(diff <= max)) { max = diff; at = i; }
        }
        Assert.True(max <= tolerance * scale, $"{what}: max |Δ| {max:E2} at {at} (expected {expected[at]}, got {actual[at]}) > {tolerance:E0} × {scale:G3}");
    }
}

using CoCa.MLNet.IO;
using System.Text.Json;
using CoCa.MLNet.Onnx.Blocks;
using CoCa.MLNet.Onnx;

namespace CoCa.MLNet.Pooling;

/// <summary>
/// Writes a trained attentional pooler + classifier (<see cref="AttentionalPoolerWeights"/>) as an ONNX model:
/// <list type="bullet">
/// <item>input <c>features</c> float [batch, F·T, D]: every token of an example (the F frames' tokens one after another);</item>
/// <item>output <c>probabilities</c> float [batch, K]: softmax over the classes.</item>
/// </list>
/// Graph: ln_k → (+ frame embedding of each token's frame) → multi-head attention from the learned queries →
/// mean over the queries → ln_post → head → softmax; the same function as the TorchSharp module that trained it,
/// written in the plain projected form with the shared blocks (ONNX Runtime folds the constant query projection).
/// </summary>
internal static class AttentionalPoolerOnnx
{
    public const string FeaturesInput = "features";
    public const string ProbabilitiesOutput = "probabilities";
    public const string BatchDim = "batch";

    /// <summary>The <see cref="CoCaOnnxMetadata.KindKey"/> of a pooler model (its config goes under ConfigKey as JSON).</summary>
    public const string Kind = "pooler";

    private const string Prefix = "pooler";

    /// <summary>The serialized ONNX model.</summary>
    public static byte[] Build(AttentionalPoolerWeights weights) => CreateGraph(weights).ToBytes();

    /// <summary>The graph, ready to write (initializers reference the arrays of <paramref name="weights"/>).</summary>
    public static OnnxGraphBuilder CreateGraph(AttentionalPoolerWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var c = weights.Config;
        c.Validate();
        long d = c.Dim;
        NamedTensor W(string name, params long[] shape) => new($"{Prefix}.{name}", weights.Tensors[name], shape);

        var g = new OnnxGraphBuilder("coca_attentional_pooler")
        {
            DocString = $"Attentional pooler + linear classifier over frozen CoCa tokens ({c.Frames}×{c.TokensPerFrame}×{c.Dim} → {c.Classes} classes), written by CoCa.MLNet.",
        };
        var features = g.Input(FeaturesInput, OnnxDataType.Float, BatchDim, c.Tokens, d);

        string probabilities;
        using (g.Scope(Prefix))
        {
            var x = LayerNormBlock.Apply(g, features, W(AttentionalPoolerWeights.TokenNormWeightName, d), W(AttentionalPoolerWeights.TokenNormBiasName, d), c.LayerNormEpsilon);
            if (c.FrameEmbeddings)
            {
                // [B, F·T, D] → [B, F, T, D] + e[F, 1, D] → [B, F·T, D]: every token of frame f gets e_f.
                var frames = g.Weight(W(AttentionalPoolerWeights.FrameEmbeddingName, c.Frames, d), c.Frames, 1, d);
                x = g.Reshape(g.Add(g.Reshape(x, 0, c.Frames, c.TokensPerFrame, d), frames), 0, c.Tokens, d);
            }

            // The trained pooler has no key bias (it would cancel in the softmax); the block wants one: zeros.
            var attention = new AttentionWeights(
                W(AttentionalPoolerWeights.QueryProjWeightName, d, d), W(AttentionalPoolerWeights.QueryProjBiasName, d),
                W(AttentionalPoolerWeights.KeyProjWeightName, d, d), new NamedTensor($"{Prefix}.k_proj.bias", new float[d], d),
                W(AttentionalPoolerWeights.ValueProjWeightName, d, d), W(AttentionalPoolerWeights.ValueProjBiasName, d),
                W(AttentionalPoolerWeights.OutProjWeightName, d, d), W(AttentionalPoolerWeights.OutProjBiasName, d));
            var query = g.Weight(W(AttentionalPoolerWeights.QueryName, c.Queries, d));
            var attended = MultiHeadAttentionBlock.Apply(g, query, x, attention, c.Heads, sharedQuery: true);   // [B, Q, D]

            var pooled = g.Node("ReduceMean", [attended], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));  // [B, D]
            pooled = LayerNormBlock.Apply(g, pooled, W(AttentionalPoolerWeights.PostNormWeightName, d), W(AttentionalPoolerWeights.PostNormBiasName, d), c.LayerNormEpsilon);
            var logits = LinearBlock.Apply(g, pooled, W(AttentionalPoolerWeights.HeadWeightName, c.Classes, d), W(AttentionalPoolerWeights.HeadBiasName, c.Classes));
            probabilities = g.Softmax(logits, -1);
        }
        g.Output(probabilities, ProbabilitiesOutput, OnnxDataType.Float, BatchDim, c.Classes);
        g.SetMetadata(CoCaOnnxMetadata.KindKey, Kind);
        g.SetMetadata(CoCaOnnxMetadata.ConfigKey, JsonSerializer.Serialize(c, CoCaJson.Plain));
        return g;
    }
}

using CoCa.MLNet.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Scoring;

/// <summary>
/// A pooler whose weights hold NaN (or overflow) computes NaN probabilities for every input; scored on, every row's
/// PredictedLabel is the first class (NaN is never the larger), so <c>coca evaluate</c> printed the first class's share
/// of the examples as top-1 accuracy. Scoring must refuse that, naming the pooler, as the encoders' outputs are refused.
/// </summary>
public sealed class NonFinitePoolerTests
{
    private const int TokenCount = 4, Dim = 8, Classes = 3;

    private sealed class TokenRow
    {
        [VectorType(TokenCount, Dim)]
        public float[] Tokens { get; set; } = [];

        public uint Label { get; set; }
    }

    private static AttentionalPoolerTransformer Pooler(bool nan)
    {
        var config = new AttentionalPoolerConfig { TokensPerFrame = TokenCount, Dim = Dim, Heads = 2, Queries = 1, Classes = Classes };
        var random = new Random(3);
        var tensors = AttentionalPoolerWeights.Layout(config).ToDictionary(
            t => t.Name,
            t => Enumerable.Range(0, t.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        // One NaN weight (a training that diverged) makes every class probability NaN.
        if (nan) tensors[AttentionalPoolerWeights.QueryProjWeightName][5] = float.NaN;
        var weights = new AttentionalPoolerWeights(config, tensors);
        var info = new AttentionalPoolerModelInfo { Config = config, TrainingExamplesPerClass = [4, 4, 4] };
        return new AttentionalPoolerTransformer(info, weights, AttentionalPoolerOnnx.Build(weights));
    }

    private static IDataView Rows(MLContext ml)
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 6).Select(i => new TokenRow
        {
            Tokens = Enumerable.Range(0, TokenCount * Dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            Label = (uint)(i % Classes),
        });
        return ml.Data.LoadFromEnumerable(rows);
    }

    [Fact]
    public void ProbabilitiesOfAPoolerWithNaNWeights_AreRefusedNamingThePooler()
    {
        var ml = new MLContext(seed: 0);
        using var pooler = Pooler(nan: true);
        var thrown = Record.Exception(() => pooler.Transform(Rows(ml)).GetColumn<float[]>("Score").ToList());
        Assert.NotNull(thrown);
        var e = Assert.IsType<InvalidDataException>(thrown!.GetBaseException());
        Assert.StartsWith("The attentional pooler computed NaN in its class probabilities", e.Message);
        Assert.Contains("its weights overflow or hold NaN", e.Message);
    }

    [Fact]
    public void ProbabilitiesOfASoundPooler_AreScored()
    {
        var ml = new MLContext(seed: 0);
        using var pooler = Pooler(nan: false);
        var scores = pooler.Transform(Rows(ml)).GetColumn<float[]>("Score").ToList();
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 5));
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>One example: tokens flattened [F·T·D] and its class.</summary>
public sealed class TokenRow
{
    [ColumnName(CoCaColumnNames.Tokens)] public float[] Features { get; set; } = [];
    public string Label { get; set; } = "";
}

/// <summary>Synthetic frozen-token datasets whose answer is known.</summary>
public static class SyntheticTokens
{
    /// <summary>
    /// Needle: T noisy tokens, each carrying one of K class vectors, every class exactly T/K times. One token, at a
    /// random position, also carries a marker; its class vector is the label. Averaging the tokens leaves no trace of
    /// the label (the class counts are balanced), attending to the marked token reveals it.
    /// </summary>
    public static List<TokenRow> Needle(int count, int tokens, int dim, int classes, int seed, int dataSeed = 1000, float classScale = 1.5f, float markerScale = 1.5f)
    {
        if (tokens % classes != 0) throw new ArgumentException("tokens must be a multiple of classes");
        var protoRandom = new Random(dataSeed);
        var classVectors = Enumerable.Range(0, classes).Select(_ => Gaussian(protoRandom, dim, classScale)).ToArray();
        var marker = Gaussian(protoRandom, dim, markerScale);
        var random = new Random(seed);
        var rows = new List<TokenRow>(count);
        for (int n = 0; n < count; n++)
        {
            int label = random.Next(classes);
            var assignment = Enumerable.Range(0, tokens).Select(t => t % classes).ToArray();
            random.Shuffle(assignment);
            var positions = Enumerable.Range(0, tokens).Where(t => assignment[t] == label).ToArray();
            int needle = positions[random.Next(positions.Length)];
            var x = new float[tokens * dim];
            for (int t = 0; t < tokens; t++)
                for (int d = 0; d < dim; d++)
                    x[t * dim + d] = (float)NextGaussian(random) + classVectors[assignment[t]][d] + (t == needle ? marker[d] : 0);
            rows.Add(new TokenRow { Features = x, Label = "class" + label });
        }
        return rows;
    }

    /// <summary>
    /// Frame order: F frames of T noise tokens; pattern A sits in one frame and pattern B in another (random frames and
    /// positions). The class is which comes first. Without knowing the frames, both classes hold the same tokens.
    /// </summary>
    public static List<TokenRow> FrameOrder(int count, int frames, int tokensPerFrame, int dim, int seed, int dataSeed = 2000)
    {
        var protoRandom = new Random(dataSeed);
        var a = Gaussian(protoRandom, dim, 2f);
        var b = Gaussian(protoRandom, dim, 2f);
        var random = new Random(seed);
        var rows = new List<TokenRow>(count);
        for (int n = 0; n < count; n++)
        {
            int fa = random.Next(frames), fb;
            do fb = random.Next(frames); while (fb == fa);
            int ta = random.Next(tokensPerFrame), tb = random.Next(tokensPerFrame);
            var x = new float[frames * tokensPerFrame * dim];
            for (int i = 0; i < x.Length; i++) x[i] = (float)NextGaussian(random);
            for (int d = 0; d < dim; d++)
            {
                x[(fa * tokensPerFrame + ta) * dim + d] += a[d];
                x[(fb * tokensPerFrame + tb) * dim + d] += b[d];
            }
            rows.Add(new TokenRow { Features = x, Label = fa < fb ? "A-then-B" : "B-then-A" });
        }
        return rows;
    }

    /// <summary>An IDataView with Tokens (the trainer's default column) as Vector&lt;Single, dims&gt; and Label as text.</summary>
    public static IDataView ToDataView(MLContext ml, IEnumerable<TokenRow> rows, params int[] dims)
    {
        var schema = SchemaDefinition.Create(typeof(TokenRow));
        schema[CoCaColumnNames.Tokens].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dims);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private static float[] Gaussian(Random r, int dim, float scale) => Enumerable.Range(0, dim).Select(_ => (float)NextGaussian(r) * scale).ToArray();

    private static double NextGaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}

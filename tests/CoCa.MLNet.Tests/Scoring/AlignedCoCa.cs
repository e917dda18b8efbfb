using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Scoring;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Scoring;

/// <summary>
/// A tiny CoCa whose two towers agree by construction. The trunks are random; only the two projections are set by hand:
/// 1. convert with <c>visual.proj</c> = I and <c>text.text_projection</c> = I (width = embed_dim), and read the
///    pre-projection features: p_i of every image, q_(k,t) of every prompt "template_t(class_k)";
/// 2. solve (min-norm least squares) for projections V and T with p_i V = s_i·u_class(i) and q_(k,t) T = r_(k,t)·u_k,
///    where u_k is class k's axis and s, r are arbitrary positive scales (so only directions match, as in CoCa);
/// 3. convert again with V and T. Image i's embedding then points along u_class(i), and so does every prompt of that
///    class: a correct zero-shot classifier must pick the class of each image, with cos = 1 against its own class.
/// This needs the features to be linearly independent (images + prompts per tower ≤ embed_dim), which the test checks.
/// </summary>
internal sealed class AlignedCoCa
{
    public const int Dim = 16;
    public static readonly string[] Templates = ["a photo of a {c}.", "a blurry drawing of the {c}"];

    public static readonly CoCaModelConfig Config = new()
    {
        Name = "aligned-tiny",
        EmbedDim = Dim,
        Vision = new VisionConfig { ImageSize = 32, PatchSize = 8, Width = 24, HeadWidth = 8, Layers = 1, AttnPoolerQueries = 2, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 16, Width = Dim, Heads = 2, Layers = 1 },
        Preprocess = new PreprocessConfig { ImageSize = 32 },
    };

    public required string ModelDirectory { get; init; }
    /// <summary>The same random trunks with identity projections (step 1): the towers do not agree.</summary>
    public required string PlainModelDirectory { get; init; }
    public required IReadOnlyList<(string Path, string Label)> Images { get; init; }
    public required string[] ClassNames { get; init; }
    /// <summary>Smallest pivot relative to the largest while solving: how well-posed the construction was.</summary>
    public required double Conditioning { get; init; }

    public static AlignedCoCa Create(string directory, int perClass = 3)
    {
        var images = SyntheticImageDataset.Generate(Path.Combine(directory, "images"), classCount: 3, perClass: perClass, width: 40, height: 36, seed: 4);
        var classNames = images.Select(i => i.Label).Distinct().ToArray();
        var prompts = classNames.SelectMany(c => Templates.Select(t => CoCaZeroShotTemplates.Apply(t, c))).ToList();

        var random = RandomCoCaCheckpoint.Create(Config, seed: 21, includeText: true);
        var identity = new float[Dim * Dim];
        for (int i = 0; i < Dim; i++) identity[i * Dim + i] = 1;
        var plain = Replace(random, ("visual.proj", identity), ("text.text_projection", identity));
        var plainDir = Path.Combine(directory, "plain");
        CoCaConverter.Convert(plain, Config, plainDir);

        float[] imageFeatures, promptFeatures;
        using (var vision = CoCaImageFeatureExtractor.Open(plainDir))
            imageFeatures = vision.Extract(images.Select(i => i.Path).ToList(), tokens: false, embeddings: true).Embeddings!;
        using (var text = CoCaTextFeatureExtractor.Open(plainDir, Fixtures.ClipBpe))
            promptFeatures = text.Embed(prompts);

        // Class axes: orthonormal basis vectors; scales vary so that only directions agree.
        double[] Axis(int k, double scale) { var u = new double[Dim]; u[3 * k + 1] = scale; return u; }
        var imageTargets = images.Select((img, i) => Axis(Array.IndexOf(classNames, img.Label), 0.5 + 0.4 * i)).ToArray();
        var promptTargets = prompts.Select((_, j) => Axis(j / Templates.Length, 2.0 - 0.3 * j)).ToArray();
        var (v, c1) = MinNormProjection(imageFeatures, images.Count, imageTargets);
        var (t, c2) = MinNormProjection(promptFeatures, prompts.Count, promptTargets);

        var aligned = Replace(random, ("visual.proj", v), ("text.text_projection", t));
        var modelDir = Path.Combine(directory, "aligned");
        CoCaConverter.Convert(aligned, Config, modelDir);
        return new AlignedCoCa { ModelDirectory = modelDir, PlainModelDirectory = plainDir, Images = images, ClassNames = classNames, Conditioning = Math.Min(c1, c2) };
    }

    private static StateDict Replace(StateDict weights, params (string Name, float[] Data)[] replacements) =>
        new(weights.Values.Select(w => replacements.FirstOrDefault(r => r.Name == w.Name) is { Data: not null } r
            ? new CheckpointTensor(w.Name, w.Shape, r.Data) : w), weights.Source);

    /// <summary>
    /// P [Dim, Dim] (row-major, applied as x @ P) with X P = Y for the m rows of X: P = Xᵀ (X Xᵀ)⁻¹ Y, in float64.
    /// Returns the smallest |pivot| / largest |pivot| of the Gram matrix's elimination as a conditioning measure.
    /// </summary>
    private static (float[] P, double Conditioning) MinNormProjection(float[] x, int m, double[][] y)
    {
        var gram = new double[m, m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int d = 0; d < Dim; d++) s += (double)x[i * Dim + d] * x[j * Dim + d];
                gram[i, j] = s;
            }
        var rhs = new double[m, Dim];
        for (int i = 0; i < m; i++)
            for (int d = 0; d < Dim; d++) rhs[i, d] = y[i][d];

        // Gaussian elimination with partial pivoting: gram · Z = rhs.
        double maxPivot = 0, minPivot = double.PositiveInfinity;
        for (int col = 0; col < m; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < m; r++) if (Math.Abs(gram[r, col]) > Math.Abs(gram[pivot, col])) pivot = r;
            for (int c = 0; c < m; c++) (gram[col, c], gram[pivot, c]) = (gram[pivot, c], gram[col, c]);
            for (int c = 0; c < Dim; c++) (rhs[col, c], rhs[pivot, c]) = (rhs[pivot, c], rhs[col, c]);
            double p = gram[col, col];
            maxPivot = Math.Max(maxPivot, Math.Abs(p));
            minPivot = Math.Min(minPivot, Math.Abs(p));
            for (int r = 0; r < m; r++)
            {
                if (r == col) continue;
                double f = gram[r, col] / p;
                if (f == 0) continue;
                for (int c = 0; c < m; c++) gram[r, c] -= f * gram[col, c];
                for (int c = 0; c < Dim; c++) rhs[r, c] -= f * rhs[col, c];
            }
        }
        var projection = new float[Dim * Dim];
        for (int d = 0; d < Dim; d++)
            for (int e = 0; e < Dim; e++)
            {
                double s = 0;
                for (int i = 0; i < m; i++) s += x[i * Dim + d] * rhs[i, e] / gram[i, i];
                projection[d * Dim + e] = (float)s;
            }
        return (projection, minPivot / maxPivot);
    }
}

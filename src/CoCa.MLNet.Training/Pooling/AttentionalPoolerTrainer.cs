using System.Diagnostics;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Devices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Trains a new attentional pooler and linear classifier over the tokens of a frozen encoder (CoCa's frozen-feature
/// protocol), for images ([T, D] tokens) and video ([F, T, D]: all frames' tokens pooled together, with frame
/// embeddings). The tokens are read once into a float16 feature store; the trained model is exported to ONNX and
/// returned as an <see cref="AttentionalPoolerTransformer"/>, which scores with ONNX Runtime (no libtorch).
/// </summary>
/// <example><code>
/// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
///     .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions()))   // reads the featurizer's "Tokens" column
///     .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
/// </code></example>
public sealed class AttentionalPoolerTrainer : IEstimator<AttentionalPoolerTransformer>
{
    private readonly IHostEnvironment _env;

    internal AttentionalPoolerTrainer(IHostEnvironment env, AttentionalPoolerOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        Options = options;
    }

    public AttentionalPoolerOptions Options { get; }

    /// <summary>Trains on <paramref name="input"/> and returns the ONNX-scored model.</summary>
    public AttentionalPoolerTransformer Fit(IDataView input)
    {
        var result = Train(input);
        var onnx = AttentionalPoolerOnnx.Build(result.Weights);
        return new AttentionalPoolerTransformer(result.Info, result.Weights, onnx);
    }

    /// <summary>Everything a Fit learns, before the ONNX export.</summary>
    internal sealed record FitResult(AttentionalPoolerWeights Weights, AttentionalPoolerModelInfo Info, IReadOnlyList<AttentionalPoolerProgress> History, int BestEpoch, bool FeaturesFromCache, bool FeaturesOnDisk);

    internal FitResult Train(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = Options;
        var shape = TrainingDataReader.GetTokenShape(input.Schema, o.FeatureColumnName);
        var label = TrainingDataReader.GetLabel(input.Schema, o.LabelColumnName);
        o.Validate(shape);

        var host = _env.Register("AttentionalPooler");
        using var ch = host.Start("Train");
        var cancel = o.CancellationCheck(host, "Attentional pooler training");
        cancel();
        int seed = o.Seed ?? host.Rand.Next();
        var device = TorchDevices.Parse(o.Device);
        var clock = Stopwatch.StartNew();

        // Labels first (and the cache key's row identities): this pass leaves the features column, and so any
        // upstream encoder, untouched.
        using var features = new FeatureStoreBuilder(input, o, shape, FeatureStoreBuilder.TempDirectory(_env));
        var labels = TrainingDataReader.ReadLabels(input, label, features.IdentityColumns, features.RowHasher);
        var perClass = TrainingDataReader.ExamplesPerClass(labels, label);
        var config = CreateConfig(shape, label.Classes);

        using var store = features.Build(labels.Length, ch, cancel, out bool fromCache);
        if (store.Count != labels.Length)
            throw new InvalidDataException($"The features column '{o.FeatureColumnName}' gave {store.Count} rows but the label column {labels.Length}; the data changed while it was read.");

        var (trainRows, validationRows) = Split(labels, o.ValidationFraction, seed);
        CatalogEnvironment.Info(ch,
            $"Attentional pooler: {labels.Length} examples ({trainRows.Length} training, {validationRows.Length} validation) of {shape} tokens, " +
            $"{config.Classes} classes, {config.Heads} head(s), {config.Queries} query(ies), frame embeddings {(config.FrameEmbeddings ? "on" : "off")}, " +
            $"{(config.ReassociationIsCheaper ? "reassociated" : "projected")} attention; features {(store.IsOnDisk ? "on disk" : "in memory")} " +
            $"({store.ByteLength / (1024.0 * 1024.0):F1} MiB float16{(fromCache ? ", reused cache" : "")}) after {clock.Elapsed.TotalSeconds:F1} s; seed {seed}, device {o.Device}.");

        var plan = PoolerTrainingPlan.Create(trainRows.Length, o.BatchSize, o.NumberOfEpochs, o.WarmupSteps, validationRows.Length > 0 ? o.EarlyStoppingPatience : 0);
        CatalogEnvironment.Info(ch, $"Attentional pooler plan: {plan}.");
        var precision = BFloat16Support.Resolve(o.Precision, device, line => ch.Warning(MessageSensitivity.None, "{0}", "Attentional pooler: " + line));
        var settings = new PoolerTrainingSettings(o.LearningRate, o.WeightDecay, plan, o.LabelSmoothing, o.Dropout, seed, o.EarlyStoppingMinDelta, device, precision);
        var result = PoolerTrainingLoop.Run(config, store, labels, trainRows, validationRows, settings, o.ReportTo(ch, "Attentional pooler "), cancel);
        CatalogEnvironment.Info(ch, $"Attentional pooler trained in {clock.Elapsed.TotalSeconds:F1} s; kept epoch {result.BestEpoch} of {result.History.Count}.");

        var info = o.ModelInfo(config, o.FeatureColumnName, label, perClass, o.ScoringBatchSize);
        return new FitResult(result.Weights, info, result.History, result.BestEpoch, fromCache, store.IsOnDisk);
    }

    private AttentionalPoolerConfig CreateConfig(TokenShape shape, int classes)
    {
        var o = Options;
        o.Validate(shape);
        if (classes < 2)
            throw new InvalidOperationException($"Label column '{o.LabelColumnName}' is a key with {classes} value(s); a classifier needs at least two classes.");
        return new AttentionalPoolerConfig
        {
            Frames = shape.Frames,
            TokensPerFrame = shape.TokensPerFrame,
            Dim = shape.Dim,
            Heads = o.HeadsFor(shape),
            Queries = o.NumberOfQueries,
            Classes = classes,
            FrameEmbeddings = o.FrameEmbeddingsFor(shape),
        };
    }

    /// <summary>
    /// A random validation split (same seed → same split); the rest trains. Rows are held out in shuffled order, but never
    /// a class's last remaining example: every class keeps at least one training example (a class folder of one image
    /// would otherwise be held out, and never learnt, one time in ten), and where that leaves fewer rows to hold out, fewer are.
    /// </summary>
    internal static (int[] Train, int[] Validation) Split(int[] labels, double fraction, int seed)
    {
        int count = labels.Length;
        var order = Enumerable.Range(0, count).ToArray();
        new Random(unchecked(seed * 31 + 17)).Shuffle(order);
        int validation = fraction > 0 ? (int)Math.Round(fraction * count) : 0;
        validation = Math.Clamp(validation, fraction > 0 && count >= 2 ? 1 : 0, count - 1);
        var left = labels.CountBy(l => l).ToDictionary();
        var val = new List<int>(validation);
        var train = new List<int>(count - validation);
        foreach (var row in order)
        {
            if (val.Count < validation && left[labels[row]] > 1)
            {
                val.Add(row);
                left[labels[row]]--;
            }
            else train.Add(row);
        }
        val.Sort();
        train.Sort();
        return ([.. train], [.. val]);
    }

    /// <summary>Input plus Score (Vector&lt;Single&gt;) and PredictedLabel (a UInt32 key), with ML.NET's scorer annotations.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = Options;
        var features = SchemaShapes.Find(inputSchema, o.FeatureColumnName, "a float vector of tokens [T, D] or [F, T, D]");
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Features column '{o.FeatureColumnName}' must be a known-size float vector of tokens [T, D] or [F, T, D].");
        var label = SchemaShapes.Find(inputSchema, o.LabelColumnName, "a key (map labels with MapValueToKey)");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' must be a key (map labels with MapValueToKey).");

        var keyValues = label.Annotations.FirstOrDefault(a => a.Name == MulticlassScoreColumns.KeyValues);
        return MulticlassScoreColumns.Append(inputSchema, o.ScoreColumnName, o.PredictedLabelColumnName, keyValues.Name is null ? null : keyValues.ItemType);
    }
}

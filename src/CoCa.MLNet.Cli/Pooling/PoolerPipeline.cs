using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Cli.Pooling;

/// <summary>
/// The ML.NET pipeline behind <c>coca train / evaluate / predict</c> and the demo: CoCa featurizer (images or
/// video frames) → attentional pooler → MapKeyToValue("PredictedLabel"), saved as one file with SaveCoCa. Labels
/// are mapped to keys in ordinal class order before the pipeline, so the saved model needs no label column to predict.
/// </summary>
internal static class PoolerPipeline
{
    public const string PathColumn = "Path";
    public const string LabelColumn = "Label";
    public const string TokensColumn = CoCaColumnNames.Tokens;

    /// <summary>What a trained pipeline is for: its input kind and classes.</summary>
    public sealed record ModelSummary(bool Video, int Frames, IReadOnlyList<string> Classes, AttentionalPoolerConfig Pooler);

    /// <summary>Fits featurizer + pooler + MapKeyToValue on <paramref name="examples"/>.</summary>
    public static ITransformer Train(MLContext ml, string modelDir, IReadOnlyList<LabelledInput> examples, bool video, int frames, AttentionalPoolerOptions options)
    {
        var classes = ClassFolders.Classes(examples);
        if (classes.Length < 2)
            throw new ArgumentException($"Training needs at least two classes; the data has {classes.Length} ({string.Join(", ", classes)}).");
        options.FeatureColumnName = TokensColumn;
        options.LabelColumnName = LabelColumn;
        IEstimator<ITransformer> featurizer = video
            ? ml.Transforms.ExtractCoCaVideoFeatures(new CoCaVideoFeaturizerOptions
            {
                ModelPath = modelDir, InputColumnName = PathColumn, FrameCount = frames, TokensColumnName = TokensColumn, EmbeddingColumnName = null,
            })
            : ml.Transforms.ExtractCoCaImageFeatures(modelDir, PathColumn, TokensColumn, embeddingColumnName: null);
        var estimator = featurizer
            .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return estimator.Fit(Keyed(ml, examples, classes));
    }

    /// <summary>
    /// Fine-tunes the encoder of an open_clip checkpoint with a new pooler on <paramref name="examples"/>: the same
    /// parts as <see cref="Train"/> (featurizer, pooler, MapKeyToValue), the featurizer holding the fine-tuned encoder.
    /// </summary>
    public static ITransformer TrainFineTuned(MLContext ml, IReadOnlyList<LabelledInput> examples, bool video, int frames, Training.Classification.FineTunedCoCaOptions options)
    {
        var classes = ClassFolders.Classes(examples);
        if (classes.Length < 2)
            throw new ArgumentException($"Training needs at least two classes; the data has {classes.Length} ({string.Join(", ", classes)}).");
        options.InputColumnName = PathColumn;
        options.LabelColumnName = LabelColumn;
        options.FrameCount = video ? frames : null;
        return ml.MulticlassClassification.Trainers.FineTunedCoCa(options)
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(Keyed(ml, examples, classes));
    }

    /// <summary>
    /// Fits the pooler on feature shards (a folder of <c>coca featurize --data ... --format parquet --shard I/N</c>
    /// files, streamed shard by shard) and puts the featurizer of <paramref name="modelDir"/> in front: the same
    /// pipeline <see cref="Train"/> makes, without running the encoder again. The shards must come from that model.
    /// </summary>
    public static ITransformer TrainFromShards(MLContext ml, string modelDir, string shards, bool video, int frames, AttentionalPoolerOptions options,
        out int rows, out string[] classes, Action<string>? warn = null)
    {
        var view = new FeatureShardsDataView(shards);   // refuses a set with shards missing, overlapping or of other runs
        if (view.UnreadableInputs > 0)
            warn?.Invoke($"the shards leave out {view.UnreadableInputs} input(s) that coca featurize could not read (it named them); training on the {view.GetRowCount()} rows they hold.");
        if (view.FeaturesColumn != TokensColumn)
            throw new ArgumentException($"Feature shards '{shards}' hold embeddings; the pooler trains on tokens (featurize with --output tokens).");
        classes = view.Labels();
        if (classes.Contains(""))
            throw new ArgumentException($"Feature shards '{shards}' have rows without a label; featurize a folder-per-class dataset with --data.");
        if (classes.Length < 2)
            throw new ArgumentException($"Training needs at least two classes; the shards have {classes.Length} ({string.Join(", ", classes)}).");
        rows = (int)(view.GetRowCount() ?? 0);
        IEstimator<ITransformer> featurizerEstimator = video
            ? ml.Transforms.ExtractCoCaVideoFeatures(new CoCaVideoFeaturizerOptions
            {
                ModelPath = modelDir, InputColumnName = PathColumn, FrameCount = frames, TokensColumnName = TokensColumn, EmbeddingColumnName = null,
            })
            : ml.Transforms.ExtractCoCaImageFeatures(modelDir, PathColumn, TokensColumn, embeddingColumnName: null);
        var paths = ml.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        var featurizer = featurizerEstimator.Fit(paths);
        var expected = featurizer.GetOutputSchema(paths.Schema)[TokensColumn];
        if (!expected.Type.Equals(view.Schema[TokensColumn].Type) || Fingerprint(expected) != Fingerprint(view.Schema[TokensColumn]))
        {
            // Say what differs: the shapes, or (the same shapes) the encoder's weights.
            var why = expected.Type.Equals(view.Schema[TokensColumn].Type)
                ? $"their tokens have its shape ({expected.Type}) but another encoder's fingerprint: other weights"
                : $"their tokens are {view.Schema[TokensColumn].Type}, its {expected.Type}";
            throw new ArgumentException($"Feature shards '{shards}' were not made by model '{modelDir}'{(video ? $" with {frames} frames" : "")}: {why}; featurize again or pass the model they came from.");
        }

        options.FeatureColumnName = TokensColumn;
        options.LabelColumnName = LabelColumn;
        var keyData = ml.Data.LoadFromEnumerable(classes.Select(c => new ClassRow { Label = c }));
        var keyed = ml.Transforms.Conversion.MapValueToKey(LabelColumn, keyData: keyData).Fit(view).Transform(view);
        var pooler = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(keyed);
        var keyToValue = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(pooler.Transform(keyed));
        return new TransformerChain<ITransformer>(featurizer, pooler, keyToValue);
    }

    private static string? Fingerprint(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(EncoderFingerprint.AnnotationName) is null) return null;
        ReadOnlyMemory<char> value = default;
        column.Annotations.GetValue(EncoderFingerprint.AnnotationName, ref value);
        return value.ToString();
    }

    /// <summary>The examples as an IDataView (Path, Label as a key over <paramref name="classes"/> in that order).</summary>
    public static IDataView Keyed(MLContext ml, IEnumerable<LabelledInput> examples, IReadOnlyList<string> classes)
    {
        var keyData = ml.Data.LoadFromEnumerable(classes.Select(c => new ClassRow { Label = c }));
        var data = ml.Data.LoadFromEnumerable(examples.Select(e => new ExampleRow { Path = e.Path, Label = e.Label }));
        return ml.Transforms.Conversion.MapValueToKey(LabelColumn, keyData: keyData).Fit(data).Transform(data);
    }

    /// <summary>
    /// Loads a pipeline saved by <c>coca train</c> from <paramref name="path"/> (the value of <paramref name="flag"/>);
    /// a folder, such as a converted model from <c>coca convert</c>, is refused with what is needed instead.
    /// </summary>
    public static ITransformer Load(MLContext ml, string path, string flag, string command)
    {
        if (Directory.Exists(path))
        {
            bool converted = File.Exists(Path.Combine(path, CoCa.MLNet.Conversion.ConvertedModel.VisionFile));
            throw new ArgumentException($"{flag} '{path}' is a folder{(converted ? " holding a converted CoCa model (from coca convert)" : "")}; " +
                $"coca {command} needs a classifier file saved by coca train (MODEL.zip): coca train --model {(converted ? path : "MODEL_DIR")} --data DATA_DIR --out MODEL.zip.");
        }
        return ml.Model.LoadCoCa(path, out _);
    }

    /// <summary>Finds the featurizer and pooler of a pipeline saved by <c>coca train</c>.</summary>
    public static ModelSummary Describe(ITransformer model, string source)
    {
        var parts = Flatten(model).ToList();
        var pooler = parts.OfType<AttentionalPoolerTransformer>().SingleOrDefault()
            ?? throw new InvalidDataException($"Model '{source}' holds no attentional pooler; use a model saved by `coca train`.");
        var classes = pooler.ClassLabels?.Values ?? Enumerable.Range(1, pooler.Config.Classes).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (parts.OfType<CoCaVideoFeaturizerTransformer>().SingleOrDefault() is { } videoFeaturizer)
            return new ModelSummary(true, videoFeaturizer.TokensShape[0], classes, pooler.Config);
        if (parts.OfType<CoCaImageFeaturizerTransformer>().Any())
            return new ModelSummary(false, 1, classes, pooler.Config);
        throw new InvalidDataException($"Model '{source}' holds no CoCa featurizer (it scores tokens, not files); use a model saved by `coca train`.");
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [model];

    /// <summary>Scores <paramref name="examples"/> with a loaded pipeline; labels must be classes it was trained on.</summary>
    public static MulticlassClassificationMetrics Evaluate(MLContext ml, ITransformer model, ModelSummary summary, IReadOnlyList<LabelledInput> examples, out IDataView scored)
    {
        var unknown = examples.Select(e => e.Label).Distinct().Where(l => !summary.Classes.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Class folder(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} name classes the model was not trained on (it knows {string.Join(", ", summary.Classes)}).");
        scored = model.Transform(Keyed(ml, examples, summary.Classes));
        // Top-5 of five classes or fewer is 100 % for any model: measured only beyond five.
        return ml.MulticlassClassification.Evaluate(scored, LabelColumn, topKPredictionCount: summary.Classes.Count > 5 ? 5 : 0);
    }

    /// <summary>One input's prediction, or why it could not be read (<see cref="Error"/>, naming the file).</summary>
    public sealed record PredictResult(string Path, string Label, float Probability, string? Error);

    /// <summary>Inputs scored per pipeline run; a run that meets an unreadable input is redone one input at a time.</summary>
    internal const int PredictChunk = 32;

    /// <summary>
    /// Label and probability of each input, in order, streamed chunk by chunk. An input that cannot be read (corrupt,
    /// empty, missing) gives a result with <see cref="PredictResult.Error"/> and the others are still scored; any other
    /// failure (the model, the machine) ends the enumeration with its exception.
    /// </summary>
    public static IEnumerable<PredictResult> Predict(MLContext ml, ITransformer model, IReadOnlyList<string> paths)
    {
        for (int start = 0; start < paths.Count; start += PredictChunk)
        {
            var chunk = paths.Skip(start).Take(PredictChunk).ToList();
            var results = TryPredict(ml, model, chunk, out var error);
            if (results is null && chunk.Count > 1)
                results = chunk.Select(p => TryPredict(ml, model, [p], out var e)?[0] ?? new PredictResult(p, "", 0, e)).ToList();
            foreach (var r in results ?? [new PredictResult(chunk[0], "", 0, error)])
                yield return r;
        }
    }

    private static List<PredictResult>? TryPredict(MLContext ml, ITransformer model, IReadOnlyList<string> paths, out string? error)
    {
        error = null;
        try
        {
            var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { Path = p }));
            return ml.Data.CreateEnumerable<Prediction>(model.Transform(data), reuseRowObject: false)
                .Select(p => new PredictResult(p.Path, p.PredictedLabel, p.Score.Max(), null))
                .ToList();
        }
        catch (Exception e) when (CoCa.MLNet.Transforms.InputErrors.IsBadInput(e))
        {
            error = CliRunner.Describe(e);
            return null;
        }
    }

    /// <summary>Saves the pipeline as one file (featurizer model, pooler ONNX and label mapping inside).</summary>
    public static void Save(MLContext ml, ITransformer model, string path)
    {
        var schema = ml.Data.LoadFromEnumerable(Array.Empty<PathRow>()).Schema;
        ml.Model.SaveCoCa(model, schema, path);
    }

    private sealed class ClassRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class ExampleRow
    {
        public string Path { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    private sealed class Prediction
    {
        public string Path { get; set; } = "";
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }
}

using System.Runtime.InteropServices;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Scoring;

/// <summary>
/// A CoCa zero-shot classifier: image (or video) embeddings → <c>Score</c> = softmax(LogitScale · cos(image, class)) over
/// the classes (slot names = class names) and <c>PredictedLabel</c> = argmax + 1 as a key whose key values are the class
/// names, the layout of ML.NET's multiclass trainers. It holds only the normalized class embeddings [K, E], so scoring
/// needs no ONNX model. Save it with <c>mlContext.Model.SaveCoCa</c>.
/// </summary>
public sealed class CoCaZeroShotTransformer : BatchedTransformer, ICoCaSavableTransformer
{
    // ML.NET's annotation kinds (AnnotationUtils.Kinds is internal).

    private const string ClassEmbeddingsEntry = "class_embeddings.f32";

    private readonly string[] _classNames;
    private readonly string[] _templates;
    private readonly float[] _classEmbeddings;

    internal CoCaZeroShotTransformer(IReadOnlyList<string> classNames, IReadOnlyList<string> templates, float[] classEmbeddings,
        float logitScale, string featureColumnName, string scoreColumnName, string predictedLabelColumnName)
    {
        ValidateClassNames(classNames);
        ValidateColumns(featureColumnName, scoreColumnName, predictedLabelColumnName);
        ArgumentNullException.ThrowIfNull(classEmbeddings);
        if (classEmbeddings.Length == 0 || classEmbeddings.Length % classNames.Count != 0)
            throw new ArgumentException($"{classNames.Count} classes need class embeddings of {classNames.Count} x E values; got {classEmbeddings.Length}.", nameof(classEmbeddings));
        if (!float.IsFinite(logitScale) || logitScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(logitScale), logitScale, "The logit scale must be a positive number.");
        _classNames = [.. classNames];
        _templates = [.. templates];
        EmbeddingDim = classEmbeddings.Length / classNames.Count;
        for (int c = 0; c < _classNames.Length; c++)
            EmbeddingMath.RequireFinite(classEmbeddings.AsSpan(c * EmbeddingDim, EmbeddingDim), $"class embedding of '{_classNames[c]}'");
        _classEmbeddings = new float[classEmbeddings.Length];
        for (int c = 0; c < _classNames.Length; c++)
            EmbeddingMath.Normalized(classEmbeddings.AsSpan(c * EmbeddingDim, EmbeddingDim)).CopyTo(_classEmbeddings.AsSpan(c * EmbeddingDim));
        LogitScale = logitScale;
        FeatureColumnName = featureColumnName;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>
    /// A classifier from class embeddings computed elsewhere (e.g. with your own prompts through
    /// <c>ExtractCoCaTextEmbedding</c>): <paramref name="classEmbeddings"/> is [K, E] row-major; each row is L2-normalized here.
    /// </summary>
    public static CoCaZeroShotTransformer FromClassEmbeddings(MLContext mlContext, IReadOnlyList<string> classNames, float[] classEmbeddings,
        string featureColumnName = CoCaColumnNames.Embedding, string scoreColumnName = CoCaColumnNames.Score, string predictedLabelColumnName = CoCaColumnNames.PredictedLabel, float logitScale = 100f)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new CoCaZeroShotTransformer(classNames, [], classEmbeddings, logitScale, featureColumnName, scoreColumnName, predictedLabelColumnName);
    }

    /// <summary>The class names, in key order (class i is key value i+1).</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>The prompt templates the class embeddings were built from (empty when given directly).</summary>
    public IReadOnlyList<string> Templates => _templates;

    /// <summary>The L2-normalized class embeddings [K, E], row-major (a copy).</summary>
    public float[] ClassEmbeddings => (float[])_classEmbeddings.Clone();

    public int EmbeddingDim { get; }
    public float LogitScale { get; }
    public string FeatureColumnName { get; }
    public string ScoreColumnName { get; }
    public string PredictedLabelColumnName { get; }

    /// <summary>Class probabilities of one embedding (normalized first): softmax(LogitScale · cos) [K].</summary>
    public float[] Score(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != EmbeddingDim)
            throw new ArgumentException($"The embedding has {embedding.Length} values; this classifier's class embeddings have {EmbeddingDim}.", nameof(embedding));
        EmbeddingMath.RequireFinite(embedding, "embedding");
        var unit = EmbeddingMath.Normalized(embedding);
        var logits = new double[_classNames.Length];
        for (int c = 0; c < logits.Length; c++)
            logits[c] = LogitScale * EmbeddingMath.Dot(unit, _classEmbeddings.AsSpan(c * EmbeddingDim, EmbeddingDim));
        return EmbeddingMath.Softmax(logits);
    }

    protected override int BatchSize => 256;

    private protected override IBatchMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        writer.WriteJson(SavedTransformerOptions<CoCaZeroShotOptions>.Entry, new Saved
        {
            ClassNames = [.. _classNames],
            Templates = [.. _templates],
            EmbeddingDim = EmbeddingDim,
            LogitScale = LogitScale,
            FeatureColumnName = FeatureColumnName,
            ScoreColumnName = ScoreColumnName,
            PredictedLabelColumnName = PredictedLabelColumnName,
        });
        // Raw little-endian float32: exact, unlike decimal text.
        writer.WriteBytes(ClassEmbeddingsEntry, MemoryMarshal.AsBytes(_classEmbeddings.AsSpan()));
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        var saved = reader.ReadJson<Saved>(SavedTransformerOptions<CoCaZeroShotOptions>.Entry);
        var bytes = reader.ReadBytes(ClassEmbeddingsEntry);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("CoCa model packages store little-endian floats.");
        if (bytes.Length != (long)saved.ClassNames.Count * saved.EmbeddingDim * sizeof(float))
            throw new InvalidDataException($"Model package '{reader.Source}': {ClassEmbeddingsEntry} has {bytes.Length} bytes, expected {saved.ClassNames.Count} x {saved.EmbeddingDim} floats.");
        var embeddings = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        return new CoCaZeroShotTransformer(saved.ClassNames, saved.Templates, embeddings, saved.LogitScale,
            saved.FeatureColumnName, saved.ScoreColumnName, saved.PredictedLabelColumnName);
    }

    internal static void ValidateClassNames(IReadOnlyList<string> classNames)
    {
        if (classNames is null || classNames.Count < 2)
            throw new ArgumentException($"Zero-shot classification needs at least two class names; got {classNames?.Count ?? 0}.", nameof(classNames));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in classNames)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A class name is empty.", nameof(classNames));
            if (!seen.Add(name)) throw new ArgumentException($"Class name '{name}' appears twice.", nameof(classNames));
        }
    }

    /// <summary>
    /// Refuses a Label key column whose values name classes of this classifier but are not its class names in its order
    /// (e.g. MapValueToKey's order of first occurrence, or more or fewer classes): PredictedLabel key k is class k, so
    /// ML.NET's Evaluate, which compares the keys, would count unrelated classes as hits and misses. A Label key sharing
    /// no name with the classes (or without key values) is some other label, left alone.
    /// </summary>
    internal static void CheckLabelColumn(DataViewSchema schema, IReadOnlyList<string> classNames)
    {
        var column = schema.GetColumnOrNull(CoCaColumnNames.Label);
        if (column is not { IsHidden: false, Type: KeyDataViewType } || ClassLabelValues.FromColumn(column.Value) is not { } values) return;
        if (values.Values.SequenceEqual(classNames, StringComparer.Ordinal) || !values.Values.Intersect(classNames, StringComparer.Ordinal).Any()) return;
        static string List(IEnumerable<string> names) => string.Join(", ", names.Take(20).Select(n => $"'{n}'"));
        throw new ArgumentOutOfRangeException(nameof(schema),
            $"Label column '{column.Value.Name}' is a key over {List(values.Values)}; this classifier's classes are {List(classNames)}, " +
            "and its PredictedLabel key k is class k, so evaluating against that Label would compare unrelated classes. Map the labels with " +
            "MapValueToKey(keyData: the class names in this order), or drop or rename the Label column to only score.");
    }

    internal static void ValidateColumns(string feature, string score, string predictedLabel)
    {
        if (string.IsNullOrWhiteSpace(feature) || string.IsNullOrWhiteSpace(score) || string.IsNullOrWhiteSpace(predictedLabel))
            throw new ArgumentException("The zero-shot classifier needs feature, score and predicted-label column names.");
        if (score == predictedLabel)
            throw new ArgumentException($"Score and predicted-label columns are both called '{score}'.");
    }

    internal static void CheckFeatureColumn(DataViewSchema schema, string name, int embeddingDim)
    {
        var col = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{name}' not found; expected a float vector of {embeddingDim} CoCa image embeddings values.");
        if (col.Type is not VectorDataViewType { ItemType: NumberDataViewType } v || v.ItemType != NumberDataViewType.Single || (v.Size != 0 && v.Size != embeddingDim))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{name}' is {col.Type}; expected a float vector of {embeddingDim} values (the CoCa embedding size).");
    }

    private sealed class Saved
    {
        public List<string> ClassNames { get; set; } = [];
        public List<string> Templates { get; set; } = [];
        public int EmbeddingDim { get; set; }
        public float LogitScale { get; set; }
        public string FeatureColumnName { get; set; } = "";
        public string ScoreColumnName { get; set; } = "";
        public string PredictedLabelColumnName { get; set; } = "";
    }

    /// <summary>Reads embeddings; scores a batch.</summary>
    private sealed class Mapper : IBatchMapper
    {
        private readonly CoCaZeroShotTransformer _parent;
        private readonly OutputColumn[] _outputs;

        public Mapper(CoCaZeroShotTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _outputs = MulticlassScoreColumns.Create(inputSchema, parent.ScoreColumnName, parent.PredictedLabelColumnName, parent._classNames.Length,
                new ClassLabelValues("Text", parent._classNames));
        }

        public string InputColumnName => _parent.FeatureColumnName;
        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema)
        {
            CheckFeatureColumn(inputSchema, InputColumnName, _parent.EmbeddingDim);
            CheckLabelColumn(inputSchema, _parent._classNames);
        }

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            var getter = row.GetGetter<VBuffer<float>>(inputColumn);
            int dim = _parent.EmbeddingDim;
            return () =>
            {
                VBuffer<float> value = default;
                getter(ref value);
                if (value.Length != dim)
                    throw new InvalidDataException($"Column '{inputColumn.Name}' has an embedding of {value.Length} values at row {row.Position}; the classifier expects {dim}.");
                var dense = new float[dim];
                value.CopyTo(dense);
                // NaN scores would make class 1 the prediction of every such row, silently.
                if (EmbeddingMath.IndexOfNonFinite(dense) is int bad and >= 0)
                    throw new InvalidDataException(
                        $"Column '{inputColumn.Name}' holds {dense[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} at row {row.Position} (value {bad}): " +
                        "the image model gives non-finite embeddings (NaN or infinite weights), which cannot be classified; use a model with finite weights.");
                return dense;
            };
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs)
        {
            var result = new object[inputs.Count][];
            for (int i = 0; i < inputs.Count; i++)
            {
                var scores = _parent.Score((float[])inputs[i]);
                result[i] = [scores, MulticlassScoreColumns.PredictedKey(scores)];
            }
            return result;
        }
    }
}

using CoCa.MLNet.Transforms;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Persistence;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Pooling;

/// <summary>
/// A trained attentional pooler + classifier over frozen tokens, scored by ONNX Runtime in batches (no libtorch).
/// Adds <c>Score</c> (class probabilities, Vector&lt;Single, K&gt;) and <c>PredictedLabel</c> (a key with the training
/// label's values), like ML.NET's multiclass trainers, so <c>MulticlassClassification.Evaluate</c> and
/// <c>MapKeyToValue</c> work. Save it, or any pipeline holding it, with <c>mlContext.Model.SaveCoCa</c>.
/// </summary>
public sealed class AttentionalPoolerTransformer : ICoCaSavableTransformer, IDisposable
{
    private const string InfoEntry = "pooler.json";
    private const string OnnxEntry = "pooler.onnx";
    private const string WeightsEntry = "pooler.safetensors";

    private readonly AttentionalPoolerOnnxScorer _scorer;

    internal AttentionalPoolerTransformer(AttentionalPoolerModelInfo info, AttentionalPoolerWeights weights, byte[] onnxModel)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(weights);
        info.Validate();
        if (weights.Config != info.Config)
            throw new ArgumentException($"Pooler weights are for {weights.Config}, the model info says {info.Config}.");
        Info = info;
        Weights = weights;
        ClassLabels = info.ClassLabels;
        _scorer = new AttentionalPoolerOnnxScorer(onnxModel, info.Config, info.Execution);
    }

    internal AttentionalPoolerModelInfo Info { get; }

    internal AttentionalPoolerConfig Config => Info.Config;

    /// <summary>The trained parameters (e.g. to score with TorchSharp, or to keep training).</summary>
    internal AttentionalPoolerWeights Weights { get; }

    /// <summary>The ONNX model scored here (pooler + classifier + softmax).</summary>
    public byte[] OnnxModel => _scorer.OnnxModel;

    /// <summary>Class names (the training label's key values), or null.</summary>
    internal ClassLabelValues? ClassLabels { get; }

    public bool IsRowToRowMapper => true;

    /// <summary>Class probabilities [count, K] of <paramref name="count"/> examples (F·T·D floats each, back to back).</summary>
    public float[] PredictProbabilities(float[] tokens, int count)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        int len = _scorer.RowLength;
        var result = new float[(long)count * Config.Classes];
        for (int start = 0; start < count; start += Info.BatchSize)
        {
            int n = Math.Min(Info.BatchSize, count - start);
            var part = start == 0 && n == count ? tokens : tokens.AsSpan(start * len, n * len).ToArray();
            _scorer.Run(part, n).CopyTo(result.AsSpan(start * Config.Classes));
        }
        return result;
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        LabelCheckingDataView.CheckLabelSchema(inputSchema, Info);
        return BatchedMappingDataView.BuildSchema(inputSchema, CreateMapper(inputSchema));
    }

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mapper = CreateMapper(input.Schema);
        var checkedInput = LabelCheckingDataView.CheckLabelSchema(input.Schema, Info) ? new LabelCheckingDataView(input, Info) : input;
        return new BatchedMappingDataView(checkedInput, mapper, Info.BatchSize);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new BatchedRowToRowMapper(inputSchema, CreateMapper(inputSchema));
    }

    private Mapper CreateMapper(DataViewSchema inputSchema)
    {
        var mapper = new Mapper(this, inputSchema);
        mapper.CheckInputSchema(inputSchema);
        return mapper;
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => throw PersistenceErrors.UseSaveCoCa(nameof(AttentionalPoolerTransformer));

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteJson(InfoEntry, Info);
        writer.WriteBytes(OnnxEntry, OnnxModel);
        using var s = writer.Create(WeightsEntry);
        Weights.WriteSafetensors(s);
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var info = reader.ReadJson<AttentionalPoolerModelInfo>(InfoEntry);
        using var weightsStream = new MemoryStream(reader.ReadBytes(WeightsEntry));
        var weights = AttentionalPoolerWeights.ReadSafetensors(info.Config, weightsStream, $"{reader.Source} ({WeightsEntry})");
        return new AttentionalPoolerTransformer(info, weights, reader.ReadBytes(OnnxEntry));
    }

    public void Dispose() => _scorer.Dispose();

    /// <summary>Scores batches of token rows: Score (probabilities) and PredictedLabel (argmax + 1).</summary>
    private sealed class Mapper : IBatchMapper
    {
        private readonly AttentionalPoolerTransformer _parent;
        private readonly OutputColumn[] _outputs;

        public Mapper(AttentionalPoolerTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            var info = parent.Info;
            _outputs = MulticlassScoreColumns.Create(inputSchema, info.ScoreColumnName, info.PredictedLabelColumnName, info.Config.Classes, parent.ClassLabels);
        }

        public string InputColumnName => _parent.Info.FeatureColumnName;

        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema)
        {
            var c = _parent.Config;
            var expected = c.Frames == 1
                ? new VectorDataViewType(NumberDataViewType.Single, c.TokensPerFrame, c.Dim)
                : new VectorDataViewType(NumberDataViewType.Single, c.Frames, c.TokensPerFrame, c.Dim);
            var what = $"{expected} ({(c.Frames == 1 ? "[T, D] tokens" : "[F, T, D] tokens")}, as in training)";
            var col = inputSchema.GetColumnOrNull(InputColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' not found; expected {what}.");
            bool ok = col.Type is VectorDataViewType { ItemType: NumberDataViewType n } v && n == NumberDataViewType.Single
                && (v.Dimensions.SequenceEqual(expected.Dimensions) || v.Dimensions.Length == 1 && v.Size == expected.Size);
            if (!ok)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' is {col.Type}; this pooler was trained on {what}.");
        }

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            var getter = row.GetGetter<VBuffer<float>>(inputColumn);
            int len = _parent.Config.Tokens * _parent.Config.Dim;
            VBuffer<float> buffer = default;
            return () =>
            {
                getter(ref buffer);
                var values = new float[len];
                buffer.CopyTo(values);
                int bad = Array.FindIndex(values, v => !float.IsFinite(v));
                if (bad >= 0)
                    throw new InvalidDataException($"Column '{InputColumnName}' row {row.Position} holds {values[bad]} at value {bad}; features must be finite numbers.");
                return values;
            };
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs)
        {
            int len = _parent.Config.Tokens * _parent.Config.Dim, k = _parent.Config.Classes;
            var tokens = new float[(long)inputs.Count * len];
            for (int i = 0; i < inputs.Count; i++) ((float[])inputs[i]).CopyTo(tokens, (long)i * len);
            var probabilities = _parent._scorer.Run(tokens, inputs.Count);
            var result = new object[inputs.Count][];
            for (int i = 0; i < inputs.Count; i++)
            {
                var p = probabilities.AsSpan(i * k, k).ToArray();
                result[i] = [p, MulticlassScoreColumns.PredictedKey(p)];
            }
            return result;
        }
    }
}

using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Runtime;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Images → CoCa encoder tokens [T, D] and/or contrastive embeddings [E], batched through ONNX Runtime with
/// open_clip's exact preprocessing. Save it (and any pipeline holding it) with <c>mlContext.Model.SaveCoCa</c>.
/// </summary>
public sealed class CoCaImageFeaturizerTransformer : BatchedTransformer, ICoCaSavableTransformer, IDisposable
{
    private readonly CoCaImageFeaturizerOptions _options;
    private readonly CoCaImageFeatureExtractor _extractor;

    internal CoCaImageFeaturizerTransformer(CoCaImageFeaturizerOptions options)
        : this(options, CoCaImageFeatureExtractor.Open(options.ModelPath, options.Execution))
    {
    }

    private CoCaImageFeaturizerTransformer(CoCaImageFeaturizerOptions options, CoCaImageFeatureExtractor extractor)
    {
        _options = options;
        _extractor = extractor;
        _fingerprint = new(() => EncoderFingerprint.Compute(extractor.Encoder.OnnxModel, "image", options.ImageFolder));
    }

    // Identifies the tokens' encoder for the pooler trainer's feature cache (hashing the ONNX model once, on demand).
    private readonly Lazy<string> _fingerprint;

    /// <summary>The model's configuration (image size, widths, preprocessing).</summary>
    public CoCaModelConfig Config => _extractor.Encoder.Config;

    /// <summary>Dimensions of the tokens column: [T, D].</summary>
    public int[] TokensShape => [Config.Vision.TokenCount, Config.Vision.Width];

    public int EmbeddingDim => Config.EmbedDim;

    protected override int BatchSize => _options.BatchSize;

    private protected override IBatchMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this);

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        SavedTransformerOptions<CoCaImageFeaturizerOptions>.Write(writer, _options, Config);
        writer.WriteBytes(ConvertedModel.VisionFile, _extractor.Encoder.OnnxModel);
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        var saved = SavedTransformerOptions<CoCaImageFeaturizerOptions>.Read(reader);
        saved.Options.ModelPath = reader.Source;
        var encoder = new CoCaVisionEncoder(reader.ReadBytes(ConvertedModel.VisionFile), saved.Config, saved.Options.Execution);
        return new CoCaImageFeaturizerTransformer(saved.Options, new CoCaImageFeatureExtractor(encoder));
    }

    /// <summary>A featurizer over an in-memory vision model (a fine-tuned encoder written by the ONNX writer); <see cref="CoCaImageFeaturizerOptions.ModelPath"/> is not read.</summary>
    internal static CoCaImageFeaturizerTransformer FromOnnx(CoCaImageFeaturizerOptions options, byte[] visionOnnx, CoCaModelConfig config) =>
        new(options, new CoCaImageFeatureExtractor(new CoCaVisionEncoder(visionOnnx, config, options.Execution)));

    public void Dispose() => _extractor.Dispose();

    /// <summary>Reads paths or MLImages, maps a batch through the extractor.</summary>
    private sealed class Mapper : IPipelinedBatchMapper
    {
        private readonly CoCaImageFeaturizerTransformer _parent;
        private readonly List<OutputColumn> _outputs = [];

        public Mapper(CoCaImageFeaturizerTransformer parent)
        {
            _parent = parent;
            var o = parent._options;
            if (o.TokensColumnName is { } t)
                _outputs.Add(new OutputColumn(t, new VectorDataViewType(NumberDataViewType.Single, parent.TokensShape), EncoderFingerprint.Annotations(parent._fingerprint, o.InputColumnName, o.ImageFolder)));
            if (o.EmbeddingColumnName is { } e)
                _outputs.Add(new OutputColumn(e, new VectorDataViewType(NumberDataViewType.Single, parent.EmbeddingDim)));
        }

        public string InputColumnName => _parent._options.InputColumnName;
        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema) => BatchRows.CheckImageColumn(inputSchema, InputColumnName);

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn) =>
            BatchRows.ImageReader(row, inputColumn, _parent._options.ImageFolder);

        public object[][] MapBatch(IReadOnlyList<object> inputs) => MapPrepared(_parent._extractor.Preprocess(inputs, CpuBudget.AvailableCores));

        public object Prepare(IReadOnlyList<object> inputs) => _parent._extractor.Preprocess(inputs, _parent._extractor.Encoder.OverlappingThreads);

        public object[][] MapPrepared(object prepared)
        {
            var batch = (PreparedImages)prepared;
            bool wantTokens = _parent._options.TokensColumnName is not null;
            bool wantEmbedding = _parent._options.EmbeddingColumnName is not null;
            var (tokens, embeddings) = _parent._extractor.Encode(batch, wantTokens, wantEmbedding);
            return BatchRows.Split(batch.Count, (tokens, _parent.TokensShape[0] * _parent.TokensShape[1]), (embeddings, _parent.EmbeddingDim));
        }
    }
}

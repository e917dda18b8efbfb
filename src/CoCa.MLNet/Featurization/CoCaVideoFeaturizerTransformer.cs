using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Video;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Videos → tokens of F uniformly sampled frames [F, T, D] and/or the mean frame embedding [E]. Frames go through
/// the image encoder in batches, with the same preprocessing as images. Save with <c>mlContext.Model.SaveCoCa</c>.
/// </summary>
public sealed class CoCaVideoFeaturizerTransformer : BatchedTransformer, ICoCaSavableTransformer, IDisposable
{
    private readonly CoCaVideoFeaturizerOptions _options;
    private readonly CoCaImageFeatureExtractor _images;
    private readonly CoCaVideoFeatureExtractor _videos;

    internal CoCaVideoFeaturizerTransformer(CoCaVideoFeaturizerOptions options)
        : this(options, CoCaImageFeatureExtractor.Open(options.ModelPath, options.Execution))
    {
    }

    private CoCaVideoFeaturizerTransformer(CoCaVideoFeaturizerOptions options, CoCaImageFeatureExtractor images)
    {
        _options = options;
        _images = images;
        _videos = new CoCaVideoFeatureExtractor(images, options.FrameCount, options.FrameBatchSize,
            new VideoReaderOptions { FfmpegPath = options.FfmpegPath, FfprobePath = options.FfprobePath });
        _fingerprint = new(() => EncoderFingerprint.Compute(images.Encoder.OnnxModel, "video", options.FrameCount.ToString(System.Globalization.CultureInfo.InvariantCulture), options.VideoFolder));
    }

    // Identifies the tokens' encoder and frame sampling for the pooler trainer's feature cache.
    private readonly Lazy<string> _fingerprint;

    public CoCaModelConfig Config => _images.Encoder.Config;

    /// <summary>Dimensions of the tokens column: [F, T, D].</summary>
    public int[] TokensShape => [_options.FrameCount, Config.Vision.TokenCount, Config.Vision.Width];

    protected override int BatchSize => _videos.VideosPerBatch;

    private protected override IBatchMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this);

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        SavedTransformerOptions<CoCaVideoFeaturizerOptions>.Write(writer, _options, Config);
        writer.WriteBytes(ConvertedModel.VisionFile, _images.Encoder.OnnxModel);
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        var saved = SavedTransformerOptions<CoCaVideoFeaturizerOptions>.Read(reader);
        saved.Options.ModelPath = reader.Source;
        var encoder = new CoCaVisionEncoder(reader.ReadBytes(ConvertedModel.VisionFile), saved.Config, saved.Options.Execution);
        return new CoCaVideoFeaturizerTransformer(saved.Options, new CoCaImageFeatureExtractor(encoder));
    }

    /// <summary>A featurizer over an in-memory vision model (a fine-tuned encoder written by the ONNX writer); <see cref="CoCaVideoFeaturizerOptions.ModelPath"/> is not read.</summary>
    internal static CoCaVideoFeaturizerTransformer FromOnnx(CoCaVideoFeaturizerOptions options, byte[] visionOnnx, CoCaModelConfig config) =>
        new(options, new CoCaImageFeatureExtractor(new CoCaVisionEncoder(visionOnnx, config, options.Execution)));

    public void Dispose() => _images.Dispose();

    private sealed class Mapper : IPipelinedBatchMapper
    {
        private readonly CoCaVideoFeaturizerTransformer _parent;
        private readonly List<OutputColumn> _outputs = [];

        public Mapper(CoCaVideoFeaturizerTransformer parent)
        {
            _parent = parent;
            if (parent._options.TokensColumnName is { } t)
                _outputs.Add(new OutputColumn(t, new VectorDataViewType(NumberDataViewType.Single, parent.TokensShape), EncoderFingerprint.Annotations(parent._fingerprint, parent._options.InputColumnName, parent._options.VideoFolder)));
            if (parent._options.EmbeddingColumnName is { } e)
                _outputs.Add(new OutputColumn(e, new VectorDataViewType(NumberDataViewType.Single, parent.Config.EmbedDim)));
        }

        public string InputColumnName => _parent._options.InputColumnName;
        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema)
        {
            var col = inputSchema.GetColumnOrNull(InputColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' not found; expected a video path (text) column.");
            if (col.Type is not TextDataViewType)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' is {col.Type}; expected a video path (text).");
        }

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            return BatchRows.PathReader(row, inputColumn, _parent._options.VideoFolder, "video");
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs) => MapPrepared(_parent._videos.Prepare(inputs.Cast<string>().ToList(), CpuBudget.AvailableCores));

        public object Prepare(IReadOnlyList<object> inputs) => _parent._videos.Prepare(inputs.Cast<string>().ToList(), _parent._videos.OverlappingThreads);

        public object[][] MapPrepared(object prepared)
        {
            var videos = (PreparedVideos)prepared;
            bool wantTokens = _parent._options.TokensColumnName is not null;
            bool wantEmbedding = _parent._options.EmbeddingColumnName is not null;
            var (tokens, embeddings) = _parent._videos.Encode(videos, wantTokens, wantEmbedding);
            return BatchRows.Split(videos.FramesPerVideo.Length, (tokens, _parent.TokensShape.Aggregate(1, (a, b) => a * b)), (embeddings, _parent.Config.EmbedDim));
        }
    }
}

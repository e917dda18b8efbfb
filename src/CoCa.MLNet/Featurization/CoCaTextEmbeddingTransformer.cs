using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Runtime;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Texts → CoCa contrastive text embeddings [E] (not normalized), tokenized as open_clip does and batched through
/// ONNX Runtime. Save it (and any pipeline holding it) with <c>mlContext.Model.SaveCoCa</c>: the text tower and the
/// tokenizer's vocabulary travel inside the file.
/// </summary>
public sealed class CoCaTextEmbeddingTransformer : BatchedTransformer, ICoCaSavableTransformer, IDisposable
{
    private readonly CoCaTextEmbeddingOptions _options;
    private readonly CoCaTextFeatureExtractor _extractor;

    internal CoCaTextEmbeddingTransformer(CoCaTextEmbeddingOptions options)
        : this(options, CoCaTextFeatureExtractor.Open(options.ModelPath, options.VocabPath, options.Execution))
    {
    }

    private CoCaTextEmbeddingTransformer(CoCaTextEmbeddingOptions options, CoCaTextFeatureExtractor extractor)
    {
        _options = options;
        _extractor = extractor;
    }

    /// <summary>The model's configuration.</summary>
    public CoCaModelConfig Config => _extractor.Encoder.Config;

    public int EmbeddingDim => Config.EmbedDim;

    protected override int BatchSize => _options.BatchSize;

    private protected override IBatchMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this);

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        var vocabulary = _extractor.Vocabulary
            ?? throw new InvalidOperationException("This text transformer was built without its vocabulary file's bytes, so it cannot be saved.");
        SavedTransformerOptions<CoCaTextEmbeddingOptions>.Write(writer, _options, Config, vocabulary.Names);
        writer.WriteBytes(ConvertedModel.TextFile, _extractor.Encoder.OnnxModel);
        vocabulary.SaveTo(writer);
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        var saved = SavedTransformerOptions<CoCaTextEmbeddingOptions>.Read(reader);
        var options = saved.Options;
        options.ModelPath = reader.Source;
        options.VocabPath = reader.Source;
        var vocabulary = ClipVocabularyFiles.LoadFrom(reader, saved.VocabularyFiles ?? []);
        var encoder = new CoCaTextEncoder(reader.ReadBytes(ConvertedModel.TextFile), saved.Config, options.Execution);
        try
        {
            return new CoCaTextEmbeddingTransformer(options, CoCaTextFeatureExtractor.Create(encoder, vocabulary));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    public void Dispose() => _extractor.Dispose();

    /// <summary>Reads texts, embeds a batch with one text-tower call.</summary>
    private sealed class Mapper(CoCaTextEmbeddingTransformer parent) : IBatchMapper
    {
        private readonly OutputColumn[] _outputs =
            [new(parent._options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, parent.EmbeddingDim))];

        public string InputColumnName => parent._options.InputColumnName;
        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema)
        {
            var col = inputSchema.GetColumnOrNull(InputColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' not found; expected a text column.");
            if (col.Type is not TextDataViewType)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumnName}' is {col.Type}; expected text.");
        }

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(inputColumn);
            return () =>
            {
                ReadOnlyMemory<char> value = default;
                getter(ref value);
                return value.ToString();
            };
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs)
        {
            var texts = inputs.Cast<string>().ToList();
            var embeddings = parent._extractor.Embed(texts, Math.Max(1, texts.Count));
            return BatchRows.Split(texts.Count, (embeddings, parent.EmbeddingDim));
        }
    }
}

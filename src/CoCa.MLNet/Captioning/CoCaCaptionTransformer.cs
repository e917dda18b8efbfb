using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Runtime;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace CoCa.MLNet.Captioning;

/// <summary>
/// Images → CoCa captions, as open_clip's <c>generate()</c> writes them (ids equal), with the cached ONNX decoder.
/// Save it (and any pipeline holding it) with <c>mlContext.Model.SaveCoCa</c>: the vision model, the caption decoder and
/// the vocabulary travel inside the file. Sampling streams follow the row position, so captions do not depend on batching.
/// </summary>
public sealed class CoCaCaptionTransformer : BatchedTransformer, ICoCaSavableTransformer, IDisposable
{
    private readonly CoCaCaptionOptions _options;
    private readonly CoCaCaptioner _captioner;

    internal CoCaCaptionTransformer(CoCaCaptionOptions options)
        : this(options, CoCaCaptioner.Open(options.ModelPath, options.VocabPath, options.Execution))
    {
    }

    private CoCaCaptionTransformer(CoCaCaptionOptions options, CoCaCaptioner captioner)
    {
        _options = options;
        _captioner = captioner;
        options.Generation.Validate(captioner.Decoder.VocabularySize);
    }

    /// <summary>The model's configuration.</summary>
    public CoCaModelConfig Config => _captioner.Decoder.Config;

    protected override int BatchSize => _options.BatchSize;

    private protected override IBatchMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this);

    void ICoCaSavableTransformer.SaveTo(CoCaPackageWriter writer)
    {
        SavedTransformerOptions<CoCaCaptionOptions>.Write(writer, _options, Config, _captioner.Vocabulary.Names);
        writer.WriteBytes(ConvertedModel.VisionFile, _captioner.Images.Encoder.OnnxModel);
        writer.WriteBytes(ConvertedModel.CaptionImageFile, _captioner.Decoder.ImageModel);
        writer.WriteBytes(ConvertedModel.CaptionStepFile, _captioner.Decoder.StepModel);
        _captioner.Vocabulary.SaveTo(writer);
    }

    static ITransformer ICoCaSavableTransformer.LoadFrom(CoCaPackageReader reader)
    {
        var saved = SavedTransformerOptions<CoCaCaptionOptions>.Read(reader);
        var options = saved.Options;
        options.ModelPath = reader.Source;
        options.VocabPath = reader.Source;
        var vocabulary = ClipVocabularyFiles.LoadFrom(reader, saved.VocabularyFiles ?? []);
        var images = new CoCaImageFeatureExtractor(new CoCaVisionEncoder(reader.ReadBytes(ConvertedModel.VisionFile), saved.Config, options.Execution));
        try
        {
            var decoder = new CoCaCaptionDecoder(reader.ReadBytes(ConvertedModel.CaptionImageFile), reader.ReadBytes(ConvertedModel.CaptionStepFile), saved.Config, options.Execution);
            return new CoCaCaptionTransformer(options, new CoCaCaptioner(images, decoder, vocabulary.CreateTokenizer(), vocabulary));
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    public void Dispose() => _captioner.Dispose();

    /// <summary>An input image and its row position (which picks its sampling stream).</summary>
    private sealed record PositionedInput(object Image, long Position);

    /// <summary>Reads paths or MLImages, captions a batch with one vision call and one batched decoding.</summary>
    private sealed class Mapper : IBatchMapper
    {
        private readonly CoCaCaptionTransformer _parent;
        private readonly List<OutputColumn> _outputs = [];

        public Mapper(CoCaCaptionTransformer parent)
        {
            _parent = parent;
            _outputs.Add(new OutputColumn(parent._options.OutputColumnName, TextDataViewType.Instance));
            if (parent._options.IdsColumnName is { } ids) _outputs.Add(new OutputColumn(ids, new VectorDataViewType(NumberDataViewType.Int64)));
        }

        public string InputColumnName => _parent._options.InputColumnName;
        public IReadOnlyList<OutputColumn> Outputs => _outputs;

        public void CheckInputSchema(DataViewSchema inputSchema) => BatchRows.CheckImageColumn(inputSchema, InputColumnName);

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            var read = BatchRows.ImageReader(row, inputColumn, _parent._options.ImageFolder);
            return () => new PositionedInput(read(), row.Position);
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs)
        {
            var rows = inputs.Cast<PositionedInput>().ToList();
            if (rows.Count == 0) return [];
            // Rows of a batch are consecutive, so the first position numbers the sampling streams of all.
            var captions = _parent._captioner.Caption(rows.Select(r => r.Image).ToList(), _parent._options.Generation, rows[0].Position);
            bool ids = _parent._options.IdsColumnName is not null;
            return captions.Select(c => ids ? new object[] { c.Text, c.Ids } : new object[] { c.Text }).ToArray();
        }
    }
}

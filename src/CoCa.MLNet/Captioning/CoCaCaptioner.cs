using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Captioning;

/// <summary>One generated caption: its text and its ids (start token first, end token last when it ended early, no padding).</summary>
public sealed record CoCaCaption(string Text, long[] Ids);

/// <summary>
/// Images → captions, outside ML.NET: open_clip preprocessing, the vision model's caption tokens, the caption decoder
/// (KV cache) and open_clip's decoding, then the CLIP detokenizer. The ML.NET transformer and <c>coca caption</c> run
/// through it.
/// </summary>
public sealed class CoCaCaptioner : IDisposable
{
    internal CoCaCaptioner(CoCaImageFeatureExtractor images, CoCaCaptionDecoder decoder, ClipTokenizer tokenizer, ClipVocabularyFiles vocabulary)
    {
        Images = images;
        Decoder = decoder;
        Tokenizer = tokenizer;
        Vocabulary = vocabulary;
    }

    /// <summary>
    /// Opens a converted model folder's vision model and caption decoder, with open_clip's CLIP vocabulary
    /// (<c>bpe_simple_vocab_16e6.txt.gz</c>, or a <c>vocab.json</c> with <c>merges.txt</c> beside it) for the text.
    /// </summary>
    public static CoCaCaptioner Open(string modelPath, string vocabPath, OnnxExecutionOptions? options = null)
    {
        var model = ConvertedModel.Open(modelPath);
        if (!model.HasCaptioner)
            throw new InvalidOperationException(
                $"Converted model '{model.Directory}' has no caption decoder ({ConvertedModel.CaptionStepFile}): " +
                (CaptionDecoderOnnx.WhyCannotCaption(model.Config) ?? $"its checkpoint '{model.Source}' had no text_decoder.* (or text.*) weights, or it was converted by an older version; convert a full open_clip CoCa checkpoint again."));
        var vocabulary = ClipVocabularyFiles.Read(vocabPath);
        var tokenizer = vocabulary.CreateTokenizer();
        var images = CoCaImageFeatureExtractor.Open(modelPath, options);
        try
        {
            var decoder = new CoCaCaptionDecoder(File.ReadAllBytes(model.CaptionImageModelPath), File.ReadAllBytes(model.CaptionStepModelPath), model.Config, options);
            return new CoCaCaptioner(images, decoder, tokenizer, vocabulary);
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    internal CoCaImageFeatureExtractor Images { get; }
    internal CoCaCaptionDecoder Decoder { get; }
    public ClipTokenizer Tokenizer { get; }
    internal ClipVocabularyFiles Vocabulary { get; }

    /// <summary>Captions of image files, decoded together (one vision call, one batched decoding).</summary>
    public IReadOnlyList<CoCaCaption> Caption(IReadOnlyList<string> imagePaths, CaptionGenerationOptions? options = null) =>
        Caption(imagePaths.Cast<object>().ToList(), options, 0);

    /// <summary>
    /// Captions of image paths, <see cref="Preprocessing.RgbImage"/>s or <see cref="Preprocessing.DecodedImage"/>s;
    /// <paramref name="firstIndex"/>: the first input's index in the whole run (picks the sampling streams).
    /// </summary>
    internal IReadOnlyList<CoCaCaption> Caption(IReadOnlyList<object> inputs, CaptionGenerationOptions? options, long firstIndex)
    {
        if (inputs.Count == 0) return [];
        var tokens = Images.ExtractCaptionTokens(inputs);
        var ids = Decoder.Generate(tokens, inputs.Count, options, firstIndex);
        return ids.Select(row => new CoCaCaption(Tokenizer.DecodeCaption(row), row)).ToList();
    }

    public void Dispose()
    {
        Images.Dispose();
        Decoder.Dispose();
    }
}

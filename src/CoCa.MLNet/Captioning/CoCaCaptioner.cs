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
                (model.Config.CaptioningUnsupportedReason ?? $"its checkpoint '{model.Source}' had no text_decoder.* (or text.*) weights, or it was converted by an older version; convert a full open_clip CoCa checkpoint again."));
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

    /// <summary>
    /// Captions of a batch in which some inputs may not be readable (corrupt, empty, missing): each of those gets why
    /// (naming it) instead of a caption, and the others are captioned as <see cref="Caption(IReadOnlyList{object}, CaptionGenerationOptions?, long)"/>
    /// would caption them, each with its own sampling stream (its index in the run, from <paramref name="firstIndex"/>).
    /// </summary>
    internal IReadOnlyList<(CoCaCaption? Caption, string? Unreadable)> CaptionReadable(IReadOnlyList<object> inputs, CaptionGenerationOptions? options, long firstIndex)
    {
        var result = new (CoCaCaption? Caption, string? Unreadable)[inputs.Count];
        if (inputs.Count == 0) return result;
        var readable = Images.PreprocessReadable(inputs, CpuBudget.AvailableCores);
        foreach (var bad in readable.Unreadable) result[bad.Index] = (null, bad.Reason);
        var tokens = Images.Encoder.RunCaptionTokens(readable.Images.Pixels, readable.Images.Count);
        var kept = readable.Kept;
        int per = Decoder.CaptionTokenCount * Decoder.EmbedDim;
        // Runs of consecutive inputs decode together: a sampled caption depends on its input's index in the run.
        for (int k = 0; k < kept.Length;)
        {
            int run = 1;
            while (k + run < kept.Length && kept[k + run] == kept[k] + run) run++;
            var slice = run == kept.Length ? tokens : tokens.AsSpan(k * per, run * per).ToArray();
            var ids = Decoder.Generate(slice, run, options, firstIndex + kept[k]);
            for (int r = 0; r < run; r++) result[kept[k + r]] = (new CoCaCaption(Tokenizer.DecodeCaption(ids[r]), ids[r]), null);
            k += run;
        }
        return result;
    }

    public void Dispose()
    {
        Images.Dispose();
        Decoder.Dispose();
    }
}

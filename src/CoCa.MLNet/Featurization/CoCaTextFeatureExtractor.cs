using CoCa.MLNet.Runtime;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Texts → CoCa text embeddings, outside ML.NET: open_clip's tokenizer (context length from the model) and one text-tower
/// call per batch. The ML.NET text transformer, the zero-shot classifier and <c>coca embed-text</c> run through it.
/// </summary>
public sealed class CoCaTextFeatureExtractor : IDisposable
{
    internal CoCaTextFeatureExtractor(CoCaTextEncoder encoder, ClipTokenizer tokenizer)
        : this(encoder, tokenizer, null)
    {
    }

    private CoCaTextFeatureExtractor(CoCaTextEncoder encoder, ClipTokenizer tokenizer, ClipVocabularyFiles? vocabulary)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Vocabulary = vocabulary;
    }

    /// <summary>Opens the text tower of a converted model folder and the CLIP vocabulary file.</summary>
    public static CoCaTextFeatureExtractor Open(string modelPath, string vocabPath, OnnxExecutionOptions? options = null)
    {
        var encoder = CoCaTextEncoder.Open(modelPath, options);
        try
        {
            var vocabulary = ClipVocabularyFiles.Read(vocabPath);
            return new CoCaTextFeatureExtractor(encoder, ClipTokenizer.FromFile(vocabPath), vocabulary);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    internal static CoCaTextFeatureExtractor Create(CoCaTextEncoder encoder, ClipVocabularyFiles vocabulary) =>
        new(encoder, vocabulary.CreateTokenizer(), vocabulary);

    internal CoCaTextEncoder Encoder { get; }

    public ClipTokenizer Tokenizer { get; }

    /// <summary>The vocabulary file bytes, when opened from a file (what a saved model stores).</summary>
    internal ClipVocabularyFiles? Vocabulary { get; }

    public int EmbedDim => Encoder.EmbedDim;

    /// <summary>open_clip's token ids of <paramref name="texts"/>, row-major [N, context_length].</summary>
    public long[] Tokenize(IReadOnlyList<string> texts) => Tokenizer.EncodeBatch(texts, Encoder.ContextLength);

    /// <summary>Embeddings (not normalized), row-major [N, E]; <paramref name="batchSize"/> texts per text-tower call.</summary>
    public float[] Embed(IReadOnlyList<string> texts, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var result = new float[(long)texts.Count * EmbedDim];
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, texts.Count - start);
            var ids = Tokenize(texts.Skip(start).Take(count).ToList());
            Encoder.Run(ids, count).CopyTo(result.AsSpan(start * EmbedDim));
        }
        return result;
    }

    public void Dispose() => Encoder.Dispose();
}

using System.Text;
using Microsoft.ML.Tokenizers;

namespace CoCa.MLNet.Text;

/// <summary>
/// open_clip's CLIP tokenizer (<c>SimpleTokenizer</c>), giving the same ids: text cleaned as open_clip does
/// (HTML-unescaped twice, whitespace collapsed, stripped, lowercased; see <see cref="ClipTextNormalizer"/> for
/// ftfy), split with open_clip's pattern, then byte-level BPE with the <c>&lt;/w&gt;</c> end-of-word suffix.
/// The BPE itself is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>; this class supplies CLIP's normalizer,
/// pre-tokenizer and vocabulary, and open_clip's framing (start/end tokens, truncation, zero padding).
/// Thread-safe.
/// </summary>
public sealed class ClipTokenizer
{
    public const int StartOfTextId = 49406, EndOfTextId = 49407;

    /// <summary>CoCa's text context: open_clip's tokenizer for coca_* models gives 76 ids per text.</summary>
    public const int DefaultContextLength = 76;

    internal const string EndOfWordSuffix = "</w>";

    private readonly BpeTokenizer _bpe;
    private readonly string[] _tokens;

    private ClipTokenizer(BpeTokenizer bpe, string[] tokens)
    {
        _bpe = bpe;
        _tokens = tokens;
    }

    /// <summary>
    /// Loads open_clip's <c>bpe_simple_vocab_16e6.txt.gz</c> (or the same file uncompressed), or a CLIP
    /// <c>vocab.json</c> with its <c>merges.txt</c> in the same folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file (or merges.txt beside a vocab.json) does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a CLIP BPE vocabulary.</exception>
    public static ClipTokenizer FromFile(string vocabPath)
    {
        var model = ClipBpeFiles.Load(vocabPath);
        var vocabulary = new Dictionary<string, int>(model.Tokens.Count, StringComparer.Ordinal);
        for (int id = 0; id < model.Tokens.Count; id++)
        {
            if (!vocabulary.TryAdd(model.Tokens[id], id))
                throw new InvalidDataException($"'{vocabPath}': token '{model.Tokens[id]}' appears twice (ids {vocabulary[model.Tokens[id]]} and {id}).");
        }
        if (vocabulary.GetValueOrDefault(ClipPreTokenizer.StartOfText, -1) != StartOfTextId
            || vocabulary.GetValueOrDefault(ClipPreTokenizer.EndOfText, -1) != EndOfTextId)
            throw new InvalidDataException($"'{vocabPath}' gives {model.Tokens.Count} tokens; CLIP's start/end tokens must have ids {StartOfTextId}/{EndOfTextId}.");

        var options = new BpeOptions(vocabulary)
        {
            Merges = model.Merges.Select(m => m.Left + " " + m.Right),
            SpecialTokens = new Dictionary<string, int>
            {
                [ClipPreTokenizer.StartOfText] = StartOfTextId,
                [ClipPreTokenizer.EndOfText] = EndOfTextId,
            },
            Normalizer = ClipTextNormalizer.Instance,
            PreTokenizer = ClipPreTokenizer.Instance,
            EndOfWordSuffix = EndOfWordSuffix,
            ByteLevel = true,
        };
        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"'{vocabPath}' is not a consistent CLIP BPE vocabulary: {e.Message}", e);
        }
        return new ClipTokenizer(bpe, [.. model.Tokens]);
    }

    /// <summary>Number of token ids (49,408 for CLIP's vocabulary).</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>The BPE ids of <paramref name="text"/>, without start/end tokens and without truncation.</summary>
    public IReadOnlyList<int> EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text);
    }

    /// <summary>
    /// open_clip's <c>tokenizer(text)</c> row: <c>[start, ids..., end]</c>; when longer than
    /// <paramref name="contextLength"/> it is cut to that length and its last id set to the end token;
    /// then zero-padded to <paramref name="contextLength"/>.
    /// </summary>
    public long[] Encode(string text, int contextLength = DefaultContextLength)
    {
        ValidateContextLength(contextLength);
        var row = new long[contextLength];
        EncodeInto(text, row);
        return row;
    }

    /// <summary>Rows of <see cref="Encode"/> for each text, row-major [texts.Count, contextLength].</summary>
    public long[] EncodeBatch(IReadOnlyList<string> texts, int contextLength = DefaultContextLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ValidateContextLength(contextLength);
        var ids = new long[(long)texts.Count * contextLength];
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null) throw new ArgumentException($"Text {i} of the batch is null.", nameof(texts));
            EncodeInto(texts[i], ids.AsSpan(i * contextLength, contextLength));
        }
        return ids;
    }

    /// <summary>
    /// Text back from ids as open_clip's <c>decode</c> gives it: every id's token (start/end tokens as
    /// "&lt;start_of_text&gt;"/"&lt;end_of_text&gt;", padding 0 as "!"), bytes decoded as UTF-8 with invalid
    /// sequences replaced by U+FFFD, and each <c>&lt;/w&gt;</c> replaced by a space. Drop padding first if unwanted.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {_tokens.Length}).");
            foreach (var c in _tokens[id]) bytes.Add(ClipByteEncoding.CharToByte[c]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray()).Replace(EndOfWordSuffix, " ", StringComparison.Ordinal);
    }

    /// <summary>
    /// A generated caption's text as open_clip's README and <c>generate()</c> users get it: the ids up to the first end
    /// token, start/end tokens removed, <see cref="Decode"/>d (byte-level BPE back to UTF-8, invalid bytes replaced,
    /// <c>&lt;/w&gt;</c> to a space), leading and trailing white space stripped.
    /// </summary>
    public string DecodeCaption(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (var id in ids)
        {
            if (id == EndOfTextId) break;
            if (id == StartOfTextId) continue;
            if ((ulong)id >= (ulong)_tokens.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {_tokens.Length}).");
            kept.Add((int)id);
        }
        return PythonText.Strip(Decode(kept));
    }

    private void EncodeInto(string text, Span<long> row)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = EncodeToIds(text);
        int length = Math.Min(ids.Count + 2, row.Length);
        row.Clear();
        row[0] = StartOfTextId;
        for (int i = 1; i < length - 1; i++) row[i] = ids[i - 1];
        row[length - 1] = EndOfTextId; // the end token survives truncation, as in open_clip
    }

    private static void ValidateContextLength(int contextLength)
    {
        if (contextLength < 1)
            throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context length must be at least 1.");
    }
}

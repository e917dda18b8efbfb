using CoCa.MLNet.IO;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace CoCa.MLNet.Text;

/// <summary>The vocabulary (tokens in id order) and ranked merges of a CLIP byte-level BPE.</summary>
internal sealed record ClipBpeModel(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges);

/// <summary>
/// Reads CLIP's BPE from open_clip's <c>bpe_simple_vocab_16e6.txt(.gz)</c> (merges only; the vocabulary is
/// derived from them as open_clip does) or from a Hugging Face style <c>vocab.json</c> + <c>merges.txt</c>.
/// </summary>
internal static class ClipBpeFiles
{
    /// <summary>open_clip keeps merges [1 : 49152-256-2+1] of the file: 48,894 of them after the header line.</summary>
    public const int MergeCount = 49152 - 256 - 2;

    public const int VocabularySize = 256 * 2 + MergeCount + 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static ClipBpeModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path))
            throw new ArgumentException($"CLIP vocabulary '{path}' is a folder; give bpe_simple_vocab_16e6.txt.gz or vocab.json (with merges.txt beside it).", nameof(path));
        if (!File.Exists(path))
            throw new FileNotFoundException($"CLIP vocabulary file '{path}' does not exist (expected bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt beside it).", path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? LoadVocabJson(path) : LoadOpenClipMerges(path);
    }

    private static ClipBpeModel LoadOpenClipMerges(string path)
    {
        var lines = ReadText(path).Split('\n');
        if (lines.Length < MergeCount + 1)
            throw new InvalidDataException($"'{path}' has {lines.Length} lines; a CLIP BPE merges file has a header line and at least {MergeCount} merges.");
        var merges = new List<(string, string)>(MergeCount);
        for (int i = 1; i <= MergeCount; i++) merges.Add(ParseMerge(lines[i], path, i + 1));

        var tokens = new List<string>(VocabularySize);
        tokens.AddRange(ClipByteEncoding.VocabularyOrder.Select(c => c.ToString()));
        tokens.AddRange(ClipByteEncoding.VocabularyOrder.Select(c => c + ClipTokenizer.EndOfWordSuffix));
        tokens.AddRange(merges.Select(m => m.Item1 + m.Item2));
        tokens.Add(ClipPreTokenizer.StartOfText);
        tokens.Add(ClipPreTokenizer.EndOfText);
        return new ClipBpeModel(tokens, merges);
    }

    private static ClipBpeModel LoadVocabJson(string path)
    {
        var mergesPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "merges.txt");
        if (!File.Exists(mergesPath))
            throw new FileNotFoundException($"'{path}' needs the merges file '{mergesPath}' beside it, which does not exist.", mergesPath);

        Dictionary<string, int>? map;
        try
        {
            map = JsonSerializer.Deserialize<Dictionary<string, int>>(ReadText(path), CoCaJson.Plain);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a CLIP vocab.json (a JSON object of token → id): {e.Message}", e);
        }
        if (map is null || map.Count == 0)
            throw new InvalidDataException($"'{path}' holds no vocabulary (expected a JSON object of token → id).");

        var tokens = new string?[map.Count];
        foreach (var (token, id) in map)
        {
            if (id < 0 || id >= tokens.Length || tokens[id] is not null)
                throw new InvalidDataException($"'{path}': token '{token}' has id {id}; ids must be 0..{tokens.Length - 1}, each used once.");
            tokens[id] = token;
        }
        // Hugging Face names the specials <|startoftext|>/<|endoftext|>; open_clip's names are used inside.
        RenameSpecial(tokens, ClipTokenizer.StartOfTextId, ClipPreTokenizer.StartOfText, "<|startoftext|>", path);
        RenameSpecial(tokens, ClipTokenizer.EndOfTextId, ClipPreTokenizer.EndOfText, "<|endoftext|>", path);

        var merges = new List<(string, string)>();
        var lines = ReadText(mergesPath).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            merges.Add(ParseMerge(line, mergesPath, i + 1));
        }
        return new ClipBpeModel(tokens!, merges);
    }

    private static void RenameSpecial(string?[] tokens, int id, string openClipName, string huggingFaceName, string path)
    {
        if (id >= tokens.Length || (tokens[id] != openClipName && tokens[id] != huggingFaceName))
            throw new InvalidDataException(
                $"'{path}' is not CLIP's vocabulary: id {id} must be '{huggingFaceName}' (or '{openClipName}') but is " +
                (id < tokens.Length ? $"'{tokens[id]}'" : $"absent ({tokens.Length} tokens)") + ".");
        tokens[id] = openClipName;
    }

    private static (string, string) ParseMerge(string line, string path, int lineNumber)
    {
        var parts = line.Split(' ');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new InvalidDataException($"'{path}' line {lineNumber}: expected a merge of two tokens separated by one space, found '{line}'.");
        return (parts[0], parts[1]);
    }

    // The whole file as UTF-8; gzip is recognised by its magic bytes, whatever the file is called.
    private static string ReadText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                gz.CopyTo(plain);
                bytes = plain.ToArray();
            }
            return StrictUtf8.GetString(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException)
        {
            throw new InvalidDataException($"'{path}' could not be read as (gzipped) UTF-8 text: {e.Message}", e);
        }
    }
}

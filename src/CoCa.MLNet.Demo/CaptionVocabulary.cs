using System.Text.Json;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Demo;

/// <summary>
/// A small CLIP-format vocabulary (vocab.json + merges.txt) whose merges build a given list of words, so each of them
/// is one token ("a red circle on the left" is 6 tokens, 8 with start and end) and any other text falls back to one
/// token per byte. It keeps CLIP's size (49,408) and special ids (49406 start, 49407 end), so any CoCa text tower
/// accepts its ids. For the walkthroughs' tiny CoCa trained from scratch: the project cannot ship CLIP's
/// bpe_simple_vocab_16e6.txt.gz, and short token sequences train faster than one token per character.
/// </summary>
public static class CaptionVocabulary
{
    /// <summary>
    /// Writes vocab.json and merges.txt into <paramref name="folder"/> and returns the vocab.json path. Checks with the
    /// library's tokenizer that every word of <paramref name="words"/> is one token.
    /// </summary>
    public static string Write(string folder, IEnumerable<string> words)
    {
        var wordList = words.Select(w => w.ToLowerInvariant()).Where(w => w.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var w in wordList)
            if (!w.All(char.IsAsciiLetterLower))
                throw new ArgumentException($"Vocabulary word '{w}' must be lower-case ASCII letters only (CLIP's pre-tokenizer splits anything else).", nameof(words));

        var merges = BuildMerges(wordList);
        var bytes = ByteLevelVocabulary.ByteCharacters();
        var tokens = new List<string>(ClipTokenizer.EndOfTextId + 1);
        tokens.AddRange(bytes);
        tokens.AddRange(bytes.Select(c => c + "</w>"));
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        foreach (var (left, right) in merges)
            if (known.Add(left + right)) tokens.Add(left + right);
        if (tokens.Count > ClipTokenizer.StartOfTextId) throw new ArgumentException($"{wordList.Count} words need {tokens.Count} tokens; at most {ClipTokenizer.StartOfTextId} fit below CLIP's special ids.", nameof(words));
        while (tokens.Count < ClipTokenizer.StartOfTextId) tokens.Add($"<unused_{tokens.Count}>");
        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");

        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "vocab.json");
        File.WriteAllText(path, JsonSerializer.Serialize(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i)));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), new[] { "#version: 0.2" }.Concat(merges.Select(m => $"{m.Left} {m.Right}")));

        var tokenizer = ClipTokenizer.FromFile(path);
        foreach (var w in wordList)
        {
            var ids = tokenizer.EncodeToIds(w);
            if (ids.Count != 1) throw new InvalidOperationException($"Vocabulary check: '{w}' became {ids.Count} tokens, expected 1.");
        }
        return path;
    }

    /// <summary>
    /// Merges that join each word's characters left to right (the last one carrying <c>&lt;/w&gt;</c>). One word's merge
    /// can fire inside another word first (e.g. "t o" from "top" inside "bottom"); BPE is simulated on every word and the
    /// pieces it leaves are joined by further merges, until every word comes out whole.
    /// </summary>
    private static List<(string Left, string Right)> BuildMerges(IReadOnlyList<string> words)
    {
        var merges = new List<(string Left, string Right)>();
        var seen = new HashSet<(string, string)>();
        void Add(string l, string r) { if (seen.Add((l, r))) merges.Add((l, r)); }
        foreach (var w in words)
        {
            var pieces = Symbols(w);
            for (int i = 1; i < pieces.Count; i++) { Add(pieces[0], pieces[i]); pieces[0] += pieces[i]; }
        }
        for (int round = 0; round < 32; round++)
        {
            bool allWhole = true;
            foreach (var w in words)
            {
                var pieces = Apply(Symbols(w), merges);
                if (pieces.Count == 1) continue;
                allWhole = false;
                for (int i = 1; i < pieces.Count; i++) { Add(pieces[0], pieces[i]); pieces[0] += pieces[i]; }
            }
            if (allWhole) return merges;
        }
        throw new InvalidOperationException("Could not build merges that keep every vocabulary word whole.");
    }

    private static List<string> Symbols(string word)
    {
        var s = word.Select(c => c.ToString()).ToList();
        s[^1] += "</w>";
        return s;
    }

    // CLIP's bpe(): repeatedly merge the adjacent pair of lowest rank (every occurrence of it), until none is a merge.
    private static List<string> Apply(List<string> symbols, List<(string Left, string Right)> merges)
    {
        var rank = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) rank.TryAdd(merges[i], i);
        while (symbols.Count > 1)
        {
            int best = int.MaxValue;
            (string, string) pair = default;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (rank.TryGetValue((symbols[i], symbols[i + 1]), out var r) && r < best) { best = r; pair = (symbols[i], symbols[i + 1]); }
            if (best == int.MaxValue) break;
            var next = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == pair.Item1 && symbols[i + 1] == pair.Item2) { next.Add(pair.Item1 + pair.Item2); i++; }
                else next.Add(symbols[i]);
            }
            symbols = next;
        }
        return symbols;
    }
}

using System.Text.Json;

namespace CoCa.MLNet.Demo;

/// <summary>
/// A CLIP-format vocabulary (vocab.json + merges.txt) with no merges: every text becomes its UTF-8 bytes. For the
/// zero-shot samples' built-in runs only, since the project does not ship CLIP's bpe_simple_vocab_16e6.txt.gz; it
/// keeps CLIP's size (49,408) and special ids (49406 start, 49407 end) so any CoCa text tower accepts its ids.
/// </summary>
public static class ByteLevelVocabulary
{
    /// <summary>Writes vocab.json and merges.txt into <paramref name="folder"/>; returns the vocab.json path.</summary>
    public static string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var bytes = ByteCharacters();
        var tokens = new List<string>(49408);
        tokens.AddRange(bytes);
        tokens.AddRange(bytes.Select(c => c + "</w>"));
        while (tokens.Count < 49406) tokens.Add($"<unused_{tokens.Count}>");   // ids a merge would have produced
        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");
        var path = Path.Combine(folder, "vocab.json");
        File.WriteAllText(path, JsonSerializer.Serialize(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i)));
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n");
        return path;
    }

    /// <summary>GPT-2/CLIP's byte → printable character table, in vocabulary order.</summary>
    internal static List<string> ByteCharacters()
    {
        var printable = Enumerable.Range(0, 256).Where(b => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF).ToList();
        var order = new List<string>(printable.Select(b => ((char)b).ToString()));
        int next = 0;
        for (int b = 0; b < 256; b++)
            if (!printable.Contains(b)) order.Add(((char)(256 + next++)).ToString());
        return order;
    }
}

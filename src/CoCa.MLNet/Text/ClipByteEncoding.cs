namespace CoCa.MLNet.Text;

/// <summary>
/// CLIP's (and GPT-2's) <c>bytes_to_unicode</c>: every byte gets a printable character, so BPE works on
/// strings without whitespace or control characters. Bytes that are printable Latin-1 ('!'..'~', '¡'..'¬',
/// '®'..'ÿ') stand for themselves; the other 68 take U+0100 onwards in byte order.
/// </summary>
internal static class ClipByteEncoding
{
    /// <summary>The 256 byte characters in open_clip's vocabulary order (the printable ones first).</summary>
    public static IReadOnlyList<char> VocabularyOrder { get; }

    /// <summary>Character → byte, for decoding.</summary>
    public static IReadOnlyDictionary<char, byte> CharToByte { get; }

    static ClipByteEncoding()
    {
        var order = new List<char>(256);
        var map = new Dictionary<char, byte>(256);
        var printable = new bool[256];
        for (int b = 0; b < 256; b++)
        {
            printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (!printable[b]) continue;
            order.Add((char)b);
            map[(char)b] = (byte)b;
        }
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            if (printable[b]) continue;
            var c = (char)(256 + next++);
            order.Add(c);
            map[c] = (byte)b;
        }
        VocabularyOrder = order;
        CharToByte = map;
    }
}

using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace CoCa.MLNet.Text;

/// <summary>
/// Splits cleaned text into the words open_clip's pattern finds:
/// <c>&lt;start_of_text&gt;|&lt;end_of_text&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>.
/// A hand-written scanner rather than <see cref="RegexPreTokenizer"/>: .NET's regex classifies UTF-16 code units,
/// so a letter or digit outside the BMP (CJK Extension B, mathematical alphanumerics) would be a "symbol" there
/// but is a letter/digit in Python's <c>regex</c>, which works on code points.
/// Categories come from .NET's Unicode tables; code points that a newer <c>regex</c> release knows and .NET does
/// not yet (e.g. Unicode 17 additions) count as symbols here. All other code points were checked to split alike.
/// </summary>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    public const string StartOfText = "<start_of_text>";
    public const string EndOfText = "<end_of_text>";

    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public static ClipPreTokenizer Instance { get; } = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    internal static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int length = MatchAt(text, i, out bool skipped);
            if (!skipped) words.Add((i, length));
            i += length;
        }
        return words;
    }

    // Length of the match that the pattern's alternation (tried in order) makes at `start`;
    // whitespace matches no alternative, so it is skipped one character at a time.
    private static int MatchAt(ReadOnlySpan<char> text, int start, out bool skipped)
    {
        skipped = false;
        var rest = text[start..];
        if (StartsWithIgnoreCase(rest, StartOfText)) return StartOfText.Length;
        if (StartsWithIgnoreCase(rest, EndOfText)) return EndOfText.Length;
        foreach (var c in Contractions)
            if (StartsWithIgnoreCase(rest, c)) return c.Length;

        var kind = KindAt(text, start, out int first);
        switch (kind)
        {
            case Kind.Space:
                skipped = true;
                return first;
            case Kind.Number:
                return first;
            case Kind.Letter:
            case Kind.Symbol:
                int end = start + first;
                while (end < text.Length && KindAt(text, end, out int n) == kind) end += n;
                return end - start;
            default:
                throw new InvalidOperationException("unreachable");
        }
    }

    // The pattern is compiled with IGNORECASE. The text is lowercase already, so the one case-insensitive
    // match left to reproduce is simple case folding of 'ſ' (U+017F) to 's' (e.g. "'ſ" is the contraction "'s").
    private static bool StartsWithIgnoreCase(ReadOnlySpan<char> text, string literal)
    {
        if (text.Length < literal.Length) return false;
        for (int k = 0; k < literal.Length; k++)
            if (text[k] != literal[k] && !(literal[k] == 's' && text[k] == '\u017F')) return false;
        return true;
    }

    private enum Kind { Space, Letter, Number, Symbol }

    private static Kind KindAt(ReadOnlySpan<char> text, int index, out int length)
    {
        // U+0345 (combining ypogegrammeni) folds to a letter under IGNORECASE, which takes it out of the
        // symbol class while the letter class still rejects it: Python's pattern matches it nowhere, like space.
        if (PythonText.IsRegexSpace(text[index]) || text[index] == '\u0345')
        {
            length = 1;
            return Kind.Space;
        }
        if (Rune.DecodeFromUtf16(text[index..], out var rune, out length) != System.Buffers.OperationStatus.Done)
        {
            length = 1; // a lone surrogate: neither letter nor number
            return Kind.Symbol;
        }
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Symbol,
        };
    }
}

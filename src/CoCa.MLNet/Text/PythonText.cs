using System.Globalization;
using System.Text;

namespace CoCa.MLNet.Text;

/// <summary>
/// The few Python string semantics open_clip's tokenizer depends on, reproduced where .NET differs:
/// <c>str.strip()</c> (which also treats U+001C..U+001F as space), the <c>regex</c> module's <c>\s</c>
/// (Unicode White_Space, which is exactly <see cref="char.IsWhiteSpace(char)"/>), and <c>str.lower()</c>
/// (full case mapping: 'İ' becomes "i̇", and capital sigma becomes final 'ς' at the end of a word).
/// </summary>
internal static class PythonText
{
    /// <summary><c>regex</c>'s <c>\s</c>: Unicode White_Space (no U+001C..U+001F, unlike <c>str.isspace</c>).</summary>
    public static bool IsRegexSpace(char c) => char.IsWhiteSpace(c);

    /// <summary><c>str.isspace()</c>: White_Space plus the separators U+001C..U+001F (bidi class B/S).</summary>
    public static bool IsStrSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    /// <summary><c>str.strip()</c> with no arguments.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsStrSpace(s[start])) start++;
        while (end > start && IsStrSpace(s[end - 1])) end--;
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary><c>str.split()</c> with no arguments: the runs of text between <see cref="IsStrSpace"/> characters.</summary>
    public static List<string> Split(string s)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsStrSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && !IsStrSpace(s[i])) i++;
            if (i > start) parts.Add(s[start..i]);
        }
        return parts;
    }

    /// <summary><c>regex.sub(r'\s+', ' ', s)</c>.</summary>
    public static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool inSpace = false;
        foreach (var c in s)
        {
            if (IsRegexSpace(c))
            {
                if (!inSpace) sb.Append(' ');
                inSpace = true;
            }
            else
            {
                sb.Append(c);
                inSpace = false;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// <c>str.lower()</c>: per code point simple lowercase, plus the two context-free/contextual rules of
    /// Unicode's SpecialCasing that Python applies: U+0130 → "i\u0307" and Final_Sigma.
    /// </summary>
    public static string Lower(string s)
    {
        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            if (Rune.DecodeFromUtf16(s.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done)
                sb.Append(s[i]); // a lone surrogate stays as it is
            else if (rune.Value == 0x0130) sb.Append("i\u0307");
            else if (rune.Value == 0x03A3) sb.Append(IsFinalSigma(s, i) ? 'ς' : 'σ');
            else sb.Append(Rune.ToLowerInvariant(rune).ToString());
            i += used;
        }
        return sb.ToString();
    }

    // Final_Sigma: preceded by a cased letter and not followed by one, skipping case-ignorable characters.
    private static bool IsFinalSigma(string s, int index)
    {
        int j = index;
        bool casedBefore = false;
        while (j > 0)
        {
            var r = RuneBefore(s, j, out int len);
            j -= len;
            if (IsCaseIgnorable(r)) continue;
            casedBefore = IsCased(r);
            break;
        }
        if (!casedBefore) return false;
        j = index + 1;
        while (j < s.Length)
        {
            Rune.DecodeFromUtf16(s.AsSpan(j), out var r, out int len);
            j += len;
            if (IsCaseIgnorable(r)) continue;
            return !IsCased(r);
        }
        return true;
    }

    private static Rune RuneBefore(string s, int end, out int length)
    {
        Rune.DecodeLastFromUtf16(s.AsSpan(0, end), out var r, out length);
        return r;
    }

    private static bool IsCased(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            || Rune.ToLowerInvariant(r) != r || Rune.ToUpperInvariant(r) != r;
    }

    private static bool IsCaseIgnorable(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
                   or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
            || r.Value is '\'' or '.' or ':' or 0x00B7 or 0x2018 or 0x2019 or 0x2024 or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
    }
}

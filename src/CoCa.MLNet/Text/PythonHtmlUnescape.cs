using System.Text;

namespace CoCa.MLNet.Text;

/// <summary>
/// Python's <c>html.unescape</c> (HTML5 rules), which open_clip applies twice to every text.
/// <see cref="System.Net.WebUtility.HtmlDecode(string)"/> is not used because it differs where captions
/// from the web need it: it knows only the 253 HTML4 names (not e.g. "&amp;hellip" forms without ';' or
/// HTML5 names such as "&amp;nbsp" unterminated, "&amp;NewLine;"), needs ';' after numeric references, and maps
/// &amp;#128;..&amp;#159; to C1 controls instead of the Windows-1252 characters HTML5 prescribes.
/// </summary>
internal static class PythonHtmlUnescape
{
    private const int MaxNameLength = 32;

    private static readonly Lazy<Dictionary<string, string>> Entities = new(LoadEntities);

    // HTML5 "character reference" replacements for numbers in 0x80..0x9F (Windows-1252), plus NUL and CR.
    private static readonly Dictionary<int, string> InvalidCharRefs = new()
    {
        [0x00] = "\uFFFD", [0x0D] = "\r", [0x80] = "\u20AC", [0x81] = "\x81", [0x82] = "\u201A", [0x83] = "\u0192",
        [0x84] = "\u201E", [0x85] = "\u2026", [0x86] = "\u2020", [0x87] = "\u2021", [0x88] = "\u02C6", [0x89] = "\u2030",
        [0x8A] = "\u0160", [0x8B] = "\u2039", [0x8C] = "\u0152", [0x8D] = "\x8D", [0x8E] = "\u017D", [0x8F] = "\x8F",
        [0x90] = "\x90", [0x91] = "\u2018", [0x92] = "\u2019", [0x93] = "\u201C", [0x94] = "\u201D", [0x95] = "\u2022",
        [0x96] = "\u2013", [0x97] = "\u2014", [0x98] = "\u02DC", [0x99] = "\u2122", [0x9A] = "\u0161", [0x9B] = "\u203A",
        [0x9C] = "\u0153", [0x9D] = "\x9D", [0x9E] = "\u017E", [0x9F] = "\u0178",
    };

    public static string Unescape(string s)
    {
        if (!s.Contains('&')) return s;
        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            int amp = s.IndexOf('&', i);
            if (amp < 0)
            {
                sb.Append(s, i, s.Length - i);
                break;
            }
            sb.Append(s, i, amp - i);
            int consumed = amp + 1 < s.Length && s[amp + 1] == '#'
                ? TryNumeric(s, amp, sb)
                : TryNamed(s, amp, sb);
            if (consumed == 0)
            {
                sb.Append('&'); // no reference here: the '&' stays and scanning resumes after it
                i = amp + 1;
            }
            else
            {
                i = amp + consumed;
            }
        }
        return sb.ToString();
    }

    // "&#[0-9]+;?" or "&#[xX][0-9a-fA-F]+;?". Returns the characters consumed (0 when it is not a reference).
    private static int TryNumeric(string s, int amp, StringBuilder sb)
    {
        int p = amp + 2;
        bool hex = p < s.Length && (s[p] == 'x' || s[p] == 'X');
        if (hex) p++;
        int digitsStart = p;
        long value = 0;
        bool overflow = false;
        while (p < s.Length && (hex ? char.IsAsciiHexDigit(s[p]) : char.IsAsciiDigit(s[p])))
        {
            int d = hex ? Convert.ToInt32(s[p].ToString(), 16) : s[p] - '0';
            value = value * (hex ? 16 : 10) + d;
            if (value > 0x10FFFF) overflow = true;
            if (overflow) value = 0x110000; // any larger number means the same: U+FFFD
            p++;
        }
        if (p == digitsStart) return 0;
        if (p < s.Length && s[p] == ';') p++;
        int num = (int)value;
        if (InvalidCharRefs.TryGetValue(num, out var replacement)) sb.Append(replacement);
        else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) sb.Append('\uFFFD');
        else if (!IsInvalidCodePoint(num)) sb.Append(char.ConvertFromUtf32(num));
        return p - amp;
    }

    // "&[^\t\n\f <&#;]{1,32};?" resolved as HTML5 does: the whole name, else its longest known prefix.
    private static int TryNamed(string s, int amp, StringBuilder sb)
    {
        int p = amp + 1;
        while (p < s.Length && p - amp - 1 < MaxNameLength && !IsNameStop(s[p])) p++;
        if (p == amp + 1) return 0;
        if (p < s.Length && s[p] == ';') p++;
        var name = s.Substring(amp + 1, p - amp - 1);
        var entities = Entities.Value;
        if (entities.TryGetValue(name, out var value))
        {
            sb.Append(value);
            return p - amp;
        }
        for (int len = name.Length - 1; len > 1; len--)
        {
            if (entities.TryGetValue(name[..len], out value))
            {
                sb.Append(value).Append(name, len, name.Length - len);
                return p - amp;
            }
        }
        sb.Append('&').Append(name);
        return p - amp;
    }

    private static bool IsNameStop(char c) => c is '\t' or '\n' or '\f' or ' ' or '<' or '&' or '#' or ';';

    // Code points HTML5 drops: C0/C1 controls other than whitespace, and the noncharacters.
    private static bool IsInvalidCodePoint(int cp) =>
        (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F)
        || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;

    private static Dictionary<string, string> LoadEntities()
    {
        using var stream = typeof(PythonHtmlUnescape).Assembly.GetManifestResourceStream("CoCa.MLNet.Text.HtmlEntities.tsv")
            ?? throw new InvalidOperationException("Embedded resource CoCa.MLNet.Text.HtmlEntities.tsv is missing from the CoCa.MLNet assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int tab = line.IndexOf('\t');
            var text = new StringBuilder();
            foreach (var hex in line[(tab + 1)..].Split(' '))
                text.Append(char.ConvertFromUtf32(Convert.ToInt32(hex, 16)));
            map[line[..tab]] = text.ToString();
        }
        return map;
    }
}

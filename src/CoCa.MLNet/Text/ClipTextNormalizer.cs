using Microsoft.ML.Tokenizers;

namespace CoCa.MLNet.Text;

/// <summary>
/// open_clip's default text cleaning, <c>whitespace_clean(basic_clean(text)).lower()</c>, without ftfy:
/// <c>html.unescape</c> twice, strip, collapse every whitespace run to one space, strip, lowercase.
/// </summary>
/// <remarks>
/// ftfy's <c>fix_text</c>, the first step of open_clip's <c>basic_clean</c>, is not reproduced (the project's
/// reference ids were made with it stubbed out). Where ftfy is installed, open_clip's ids differ from these for
/// text that ftfy rewrites: curly quotes (’ → '), ligatures (ﬁ → fi), full-width forms (Ａ → A), decomposed
/// accents (NFC), mojibake, control characters. Plain text is unaffected.
/// </remarks>
internal sealed class ClipTextNormalizer : Normalizer
{
    public static ClipTextNormalizer Instance { get; } = new();

    public override string Normalize(string original) => Clean(original ?? string.Empty);

    public override string Normalize(ReadOnlySpan<char> original) => Clean(original.ToString());

    public static string Clean(string text)
    {
        var basic = PythonText.Strip(PythonHtmlUnescape.Unescape(PythonHtmlUnescape.Unescape(text)));
        var spaced = PythonText.Strip(PythonText.CollapseWhitespace(basic));
        return PythonText.Lower(spaced);
    }
}

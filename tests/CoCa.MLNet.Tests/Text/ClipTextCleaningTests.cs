using System.Net;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Tests.Text;

/// <summary>
/// open_clip's cleaning (<c>whitespace_clean(basic_clean(text)).lower()</c>, ftfy aside) and its pattern, as
/// Python defines them: <c>html.unescape</c> (HTML5), <c>str.strip</c>, the <c>regex</c> module's <c>\s</c>,
/// <c>str.lower</c>. Expected strings follow those definitions.
/// </summary>
public class ClipTextCleaningTests
{
    [Theory]
    [InlineData("fish &amp; chips", "fish & chips")]
    [InlineData("&amp;amp;", "&")]                 // unescaped twice
    [InlineData("&amp;amp;amp;", "&amp;")]         // ...and only twice
    [InlineData("fish &amp chips", "fish & chips")] // legacy name without ';'
    [InlineData("&copy2024 caf&eacute;", "©2024 café")]
    [InlineData("&notit; &notin;", "¬it; ∉")]       // longest known prefix, else the whole name
    [InlineData("&#39;&#x27;&#X41&#65", "''aa")]   // numeric, ';' optional, then lowercased
    [InlineData("&#128;&#150;", "€–")]              // 0x80..0x9F are Windows-1252, as HTML5 says
    [InlineData("a&#0;b&#xD800;c&#1114112;d", "a\uFFFDb\uFFFDc\uFFFDd")]
    [InlineData("a&#11;b&#xFFFE;c", "abc")]         // dropped code points
    [InlineData("AT&T & co &; &#x; &#", "at&t & co &; &#x; &#")] // not references: kept
    [InlineData("&NewLine;a&Tab;b&nbsp;c", "a b c")] // HTML5-only names; the white space they give collapses
    public void HtmlIsUnescapedAsPythonDoes(string text, string expected) =>
        Assert.Equal(expected, ClipTextNormalizer.Clean(text));

    [Fact]
    public void WebUtilityHtmlDecodeWouldDiffer()
    {
        // Why the project has its own unescape: the BCL decoder leaves these alone or maps them differently.
        Assert.Equal("&amp chips", WebUtility.HtmlDecode("&amp chips"));
        Assert.Equal("\u0080", WebUtility.HtmlDecode("&#128;"));
        Assert.Equal("& chips", PythonHtmlUnescape.Unescape("&amp chips"));
        Assert.Equal("€", PythonHtmlUnescape.Unescape("&#128;"));
    }

    [Theory]
    [InlineData("  two \t\r\n people  ", "two people")]
    [InlineData("\u00A0a\u2003\u2028b\u3000", "a b")]      // Unicode white space collapses and strips
    [InlineData("\u001Ca\u001Fb\u001E", "a\u001Fb")]      // str.strip removes U+001C..1F; regex's \s does not collapse them
    [InlineData("a\u200Bb", "a\u200Bb")]                  // zero-width space is not white space
    public void WhitespaceIsCollapsedAndStripped(string text, string expected) =>
        Assert.Equal(expected, ClipTextNormalizer.Clean(text));

    [Theory]
    [InlineData("A Dog running on the BEACH!!", "a dog running on the beach!!")]
    [InlineData("ΟΔΟΣ ΟΔΟΣ. ΣΑ Σ", "οδος οδος. σα σ")]    // final sigma at a word's end, as str.lower does
    [InlineData("İSTANBUL", "i\u0307stanbul")]             // U+0130 lowercases to two code points
    [InlineData("ÀÉÎÕÜ ÇÑ", "àéîõü çñ")]
    [InlineData("𐐀𝐀", "𐐨𝐀")]                               // outside the BMP: Deseret has case, math letters do not
    public void TextIsLowercasedAsPythonDoes(string text, string expected) =>
        Assert.Equal(expected, ClipTextNormalizer.Clean(text));

    [Theory]
    [InlineData("a photo of a cat.", new[] { "a", "photo", "of", "a", "cat", "." })]
    [InlineData("it's we'll they're i'm you'd", new[] { "it", "'s", "we", "'ll", "they", "'re", "i", "'m", "you", "'d" })]
    [InlineData("''s !'s", new[] { "''", "s", "!'", "s" })]      // a symbol run takes the quote first
    [InlineData("x<start_of_text>y<end_of_text>", new[] { "x", "<start_of_text>", "y", "<end_of_text>" })]
    [InlineData("!<start_of_text>", new[] { "!<", "start", "_", "of", "_", "text", ">" })]
    [InlineData("2024ab12", new[] { "2", "0", "2", "4", "ab", "1", "2" })]
    [InlineData("٣٤ ½", new[] { "٣", "٤", "½" })]              // any Unicode number is one word per character
    [InlineData("naïve café", new[] { "naïve", "café" })]
    [InlineData("猫が好き", new[] { "猫が好き" })]                // letters of any script form one word
    [InlineData("a𠀀b 𝟙𝟚", new[] { "a𠀀b", "𝟙", "𝟚" })]        // code points outside the BMP keep their category
    [InlineData("😀😀!? ok", new[] { "😀😀!?", "ok" })]          // emoji are symbols
    [InlineData("'ſ", new[] { "'ſ" })]                          // IGNORECASE: 'ſ' folds to 's'
    [InlineData("a\u0345b", new[] { "a", "b" })]               // U+0345 matches no alternative under IGNORECASE
    public void PreTokenizerSplitsLikeOpenClipsPattern(string text, string[] expected)
    {
        var words = ClipPreTokenizer.Split(text.AsSpan()).Select(w => text.Substring(w.Offset, w.Length));
        Assert.Equal(expected, words);
    }
}

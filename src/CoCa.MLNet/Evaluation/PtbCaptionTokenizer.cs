using CoCa.MLNet.Text;

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// pycocoevalcap's <c>PTBTokenizer</c> wrapper (tokenizer/ptbtokenizer.py) without Java: each caption on its own line
/// (new lines replaced by spaces), Stanford's PTB tokenizer with <c>-preserveLines -lowerCase</c> (<see cref="PtbLexer"/>),
/// then the tokens in pycocoevalcap's PUNCTUATIONS list removed and the rest joined by single spaces.
/// </summary>
/// <remarks>
/// PUNCTUATIONS holds the bracket tokens in upper case ("-LRB-") while <c>-lowerCase</c> gives "-lrb-", so pycocoevalcap
/// keeps brackets as words; so do we. Likewise runs like "?!" and "!!" are one token that the list does not name.
/// </remarks>
internal static class PtbCaptionTokenizer
{
    private static readonly HashSet<string> Punctuations =
        new(["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"], StringComparer.Ordinal);

    /// <summary>The caption as pycocoevalcap scores it: lower-cased PTB tokens without punctuation, space-separated.</summary>
    public static string Tokenize(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        // The lexer reads all captions as one file, a caption a line: each caption is followed by a line end.
        var tokens = PtbLexer.Tokenize(caption.Replace('\n', ' ') + "\n");
        return string.Join(' ', tokens.Select(LowerCase).Where(t => !Punctuations.Contains(t)));
    }

    // Java's String.toLowerCase(Locale.ENGLISH), applied token by token: full case mapping, like Python's str.lower().
    private static string LowerCase(string token) => PythonText.Lower(token);
}

namespace CoCa.MLNet.IO;

/// <summary>How one error message is quoted inside another (here, below every namespace that writes messages).</summary>
internal static class ErrorText
{
    /// <summary>
    /// <paramref name="message"/> on one line without its final period, to embed in a sentence that ends with its own
    /// (a message naming a bad input quoted in a list of them would otherwise end "…or TIFF..").
    /// </summary>
    public static string AsClause(string message) => message.ReplaceLineEndings(" ").TrimEnd().TrimEnd('.');
}

namespace CoCa.MLNet.Video;

/// <summary>Helpers for naming files to ffmpeg and for turning its stderr into a readable message.</summary>
internal static class FfmpegInput
{
    /// <summary>
    /// The absolute path with ffmpeg's <c>file:</c> protocol, so that names containing ':' (read by ffmpeg as a
    /// protocol) or starting with '-' (an option) still mean the file.
    /// </summary>
    public static string Url(string path) => "file:" + Path.GetFullPath(path);

    /// <summary>ffmpeg's stderr without the repeated file name prefix; "no details" when empty.</summary>
    public static string CleanError(string stderr, string path)
    {
        string text = stderr.Replace(Url(path) + ": ", "", StringComparison.Ordinal).Replace(Url(path), "<file>", StringComparison.Ordinal).Trim();
        return text.Length == 0 ? "no details" : text;
    }
}

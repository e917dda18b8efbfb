namespace CoCa.MLNet.Cli.Commands;

/// <summary>Expands the PATH arguments of a command: files as given, folders as their files sorted by name.</summary>
internal static class InputPaths
{
    public static readonly string[] ImageExtensions = [.. Preprocessing.ImageFiles.Extensions];

    /// <summary>Video containers ffmpeg reads (the library's list, which also tells the video rows of a pairs file).</summary>
    public static readonly string[] VideoExtensions = [.. CoCa.MLNet.Video.VideoFiles.Extensions];

    /// <summary>Image formats PIL (open_clip) may read that coca does not decode: a folder holding them is refused.</summary>
    public static readonly string[] UnreadableImageExtensions =
    [
        ".jp2", ".j2k", ".jpx", ".jpf", ".heic", ".heif", ".avif", ".jxl", ".ico", ".icns", ".cur", ".ppm", ".pgm", ".pbm",
        ".pnm", ".tga", ".psd", ".dds", ".pcx", ".sgi", ".rgb", ".xbm", ".xpm", ".eps", ".svg", ".dib", ".exr", ".hdr", ".dng", ".cr2", ".nef", ".arw",
    ];

    /// <summary>
    /// Refuses folder <paramref name="folder"/> when it holds image files in formats coca cannot read, listing them;
    /// with <paramref name="skipUnreadable"/> (<c>--skip-unreadable</c>) they are skipped with a warning naming them.
    /// </summary>
    public static void CheckUnreadableImages(string folder, bool skipUnreadable)
    {
        var unreadable = Directory.EnumerateFiles(folder)
            .Where(f => UnreadableImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        if (unreadable.Count == 0) return;
        var names = string.Join(", ", unreadable.Take(10).Select(Path.GetFileName)) + (unreadable.Count > 10 ? $", ... ({unreadable.Count} in all)" : "");
        if (!skipUnreadable)
            throw new InvalidDataException(
                $"Folder '{folder}' holds {unreadable.Count} image file(s) in formats coca cannot read: {names} (it reads {string.Join(" ", ImageExtensions)}); " +
                "convert them (e.g. to PNG), or pass --skip-unreadable to leave them out.");
        Console.Error.WriteLine($"coca: warning: skipping {unreadable.Count} image file(s) in '{folder}' that coca cannot read: {names}.");
    }

    /// <summary>
    /// Video inputs: video files, folders of video files, and folders of frame images (a folder holding no video
    /// files but images is one video).
    /// </summary>
    public static List<string> ExpandVideos(IEnumerable<string> paths, ICollection<string>? missing = null)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            bool frameFolder = Directory.Exists(path)
                && !Directory.EnumerateFiles(path).Any(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                && Directory.EnumerateFiles(path).Any(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()));
            if (frameFolder) result.Add(path);
            else if (File.Exists(path) || Directory.Exists(path)) result.AddRange(Expand([path], VideoExtensions, "video"));
            else Missing(path, "video", missing);
        }
        if (result.Count == 0 && missing is { Count: > 0 }) return result;
        return result.Count > 0 ? result : throw NoneFound(paths, VideoExtensions, "video");
    }

    /// <summary>
    /// The files of <paramref name="paths"/>. A path that does not exist throws, or, with <paramref name="missing"/>,
    /// is added there as a one-line message (batch commands name it and go on with the others).
    /// </summary>
    public static List<string> Expand(IEnumerable<string> paths, IReadOnlyCollection<string> extensions, string what, bool skipUnreadable = false,
        ICollection<string>? missing = null)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
                result.Add(path);
            else if (Directory.Exists(path))
            {
                if (what == "image") CheckUnreadableImages(path, skipUnreadable);
                result.AddRange(Directory.EnumerateFiles(path)
                    .Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal));
            }
            else
                Missing(path, what, missing);
        }
        if (result.Count == 0 && missing is { Count: > 0 }) return result;   // each named already: nothing else to say
        return result.Count > 0 ? result : throw NoneFound(paths, extensions, what);
    }

    private static void Missing(string path, string what, ICollection<string>? missing)
    {
        var message = $"Input '{path}' does not exist (expected {what} files or folders of them).";
        if (missing is null) throw new FileNotFoundException(message, path);
        missing.Add(message);
    }

    private static ArgumentException NoneFound(IEnumerable<string> paths, IReadOnlyCollection<string> extensions, string what) =>
        new($"No {what} files found in {string.Join(", ", paths)} (looked for {string.Join(" ", extensions)}).");
}

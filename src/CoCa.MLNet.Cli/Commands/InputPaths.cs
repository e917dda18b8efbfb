namespace CoCa.MLNet.Cli.Commands;

/// <summary>Expands the PATH arguments of a command: files as given, folders as their files sorted by name.</summary>
internal static class InputPaths
{
    public static readonly string[] ImageExtensions = [.. Preprocessing.ImageFiles.Extensions];

    /// <summary>Video containers ffmpeg reads (the library's list, which also tells the video rows of a pairs file).</summary>
    public static readonly string[] VideoExtensions = [.. CoCa.MLNet.Video.VideoFiles.Extensions];

    /// <summary><c>--skip-unreadable</c>, read by <see cref="CheckUnreadableImages"/>.</summary>
    public static System.CommandLine.Option<bool> SkipUnreadableOption() => new("--skip-unreadable")
    {
        Description = "Skip files coca cannot read as images (other image formats, videos) with a warning naming them, instead of refusing the folder",
    };

    /// <summary>How the library's folder checks tell a coca user to skip files or read videos.</summary>
    public static readonly Featurization.ClassFolders.SkipAdvice Advice = new("pass --skip-unreadable to leave them out", "--video, or a model trained with it");

    /// <summary>
    /// Refuses folder <paramref name="folder"/> when it holds image files in formats coca cannot read, or video files,
    /// listing them; with <paramref name="skipUnreadable"/> (<c>--skip-unreadable</c>) they are skipped with a warning
    /// naming them (the library's one check, <see cref="Featurization.ClassFolders"/>).
    /// </summary>
    public static void CheckUnreadableImages(string folder, bool skipUnreadable) =>
        Featurization.ClassFolders.CheckImageFolder(folder, Skipped(skipUnreadable), Advice);

    /// <summary>The warning callback of <c>--skip-unreadable</c> (null without it: refuse).</summary>
    public static Action<string>? Skipped(bool skipUnreadable) =>
        skipUnreadable ? line => Console.Error.WriteLine($"coca: warning: {line}") : null;

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

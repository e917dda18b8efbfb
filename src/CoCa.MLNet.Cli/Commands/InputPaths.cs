namespace CoCa.MLNet.Cli.Commands;

/// <summary>Expands the PATH arguments of a command: files as given, folders as their files sorted by name.</summary>
internal static class InputPaths
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
    public static readonly string[] VideoExtensions = [".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg"];

    /// <summary>
    /// Video inputs: video files, folders of video files, and folders of frame images (a folder holding no video
    /// files but images is one video).
    /// </summary>
    public static List<string> ExpandVideos(IEnumerable<string> paths)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            bool frameFolder = Directory.Exists(path)
                && !Directory.EnumerateFiles(path).Any(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                && Directory.EnumerateFiles(path).Any(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()));
            result.AddRange(frameFolder ? [path] : Expand([path], VideoExtensions, "video"));
        }
        return result;
    }

    public static List<string> Expand(IEnumerable<string> paths, IReadOnlyCollection<string> extensions, string what)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
                result.Add(path);
            else if (Directory.Exists(path))
                result.AddRange(Directory.EnumerateFiles(path)
                    .Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal));
            else
                throw new FileNotFoundException($"Input '{path}' does not exist (expected {what} files or folders of them).", path);
        }
        if (result.Count == 0)
            throw new ArgumentException($"No {what} files found in {string.Join(", ", paths)} (looked for {string.Join(" ", extensions)}).");
        return result;
    }
}

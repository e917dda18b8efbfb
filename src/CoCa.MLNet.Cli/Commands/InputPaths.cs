namespace CoCa.MLNet.Cli.Commands;

/// <summary>Expands the PATH arguments of a command: files as given, folders as their files sorted by name.</summary>
internal static class InputPaths
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
    public static readonly string[] VideoExtensions = [".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg"];

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

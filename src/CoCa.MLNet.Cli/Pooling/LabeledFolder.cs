using CoCa.MLNet.Cli.Commands;

namespace CoCa.MLNet.Cli.Pooling;

/// <summary>One labelled example of a folder-per-class dataset: an image, a video file or a folder of frames.</summary>
internal sealed record LabeledExample(string Path, string Label);

/// <summary>
/// Reads a folder-per-class dataset: DIR/&lt;class&gt;/ holds the examples of that class: image files, or (video)
/// video files and folders of frame images. Classes are the sub-folder names, in ordinal order.
/// </summary>
internal static class LabeledFolder
{
    public static List<LabeledExample> Read(string directory, bool video, bool skipUnreadable = false)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Data folder '{directory}' does not exist (expected one sub-folder per class holding its {What(video)}).");
        var classDirs = Directory.EnumerateDirectories(directory).OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new ArgumentException($"Data folder '{directory}' has no sub-folders; expected one sub-folder per class holding its {What(video)}.");
        var examples = new List<LabeledExample>();
        foreach (var classDir in classDirs)
        {
            var label = Path.GetFileName(classDir);
            if (!video) InputPaths.CheckUnreadableImages(classDir, skipUnreadable);
            var items = video ? Videos(classDir) : Images(classDir);
            if (items.Count == 0)
                throw new ArgumentException($"Class folder '{classDir}' holds no {What(video)} (looked for {string.Join(" ", video ? InputPaths.VideoExtensions : InputPaths.ImageExtensions)}{(video ? " files and folders of frame images" : "")}).");
            examples.AddRange(items.Select(p => new LabeledExample(p, label)));
        }
        return examples;
    }

    /// <summary>The class names of <paramref name="examples"/>, in ordinal order (the key order of the trained model).</summary>
    public static string[] Classes(IEnumerable<LabeledExample> examples) =>
        examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();

    private static string What(bool video) => video ? "videos (video files or folders of frame images)" : "images";

    private static List<string> Images(string dir) =>
        Directory.EnumerateFiles(dir).Where(f => InputPaths.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();

    private static List<string> Videos(string dir)
    {
        var files = Directory.EnumerateFiles(dir).Where(f => InputPaths.VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()));
        var frameFolders = Directory.EnumerateDirectories(dir).Where(d => Directory.EnumerateFiles(d).Any(f => InputPaths.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())));
        return files.Concat(frameFolders).Order(StringComparer.Ordinal).ToList();
    }
}

using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Featurization;

/// <summary>One example of a folder-per-class dataset: an image file, a video file or a folder of frame images, and its class.</summary>
public sealed class LabelledInput
{
    public string Path { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>
/// Datasets laid out as one sub-folder per class (the usual layout of image and video datasets): DIR/&lt;class&gt;/
/// holds the examples of that class. The one reader the CLI, the samples and the notebooks use.
/// </summary>
public static class ClassFolders
{
    /// <summary>
    /// The examples under <paramref name="root"/>, class folders in ordinal order and their examples too: image files
    /// (<see cref="ImageFiles"/>), or with <paramref name="videos"/> video files (<see cref="VideoFiles"/>) and folders
    /// of frame images. A missing folder, a file, a folder without class folders, or a class folder without examples is
    /// refused naming it.
    /// </summary>
    public static List<LabelledInput> Read(string root, bool videos = false)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (File.Exists(root))
            throw new ArgumentException($"Data folder '{root}' is a file; expected a folder with one sub-folder per class holding its {What(videos)}.");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Data folder '{root}' does not exist (expected one sub-folder per class holding its {What(videos)}).");
        var classDirs = Directory.EnumerateDirectories(root).OrderBy(d => System.IO.Path.GetFileName(d), StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new ArgumentException($"Data folder '{root}' has no sub-folders; expected one sub-folder per class holding its {What(videos)}.");
        var examples = new List<LabelledInput>();
        foreach (var classDir in classDirs)
        {
            var label = System.IO.Path.GetFileName(classDir);
            var items = videos ? Videos(classDir) : Images(classDir);
            if (items.Count == 0)
                throw new ArgumentException($"Class folder '{classDir}' holds no {What(videos)} (looked for {string.Join(" ", videos ? VideoFiles.Extensions : ImageFiles.Extensions)}{(videos ? " files and folders of frame images" : "")}).");
            examples.AddRange(items.Select(p => new LabelledInput { Path = p, Label = label }));
        }
        return examples;
    }

    /// <summary>The class names of <paramref name="examples"/>, in ordinal order (the key order a classifier trained on them has).</summary>
    public static string[] Classes(IEnumerable<LabelledInput> examples) =>
        examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();

    private static string What(bool videos) => videos ? "videos (video files or folders of frame images)" : "images";

    private static List<string> Images(string dir) =>
        Directory.EnumerateFiles(dir).Where(ImageFiles.HasImageExtension).Order(StringComparer.Ordinal).ToList();

    private static List<string> Videos(string dir)
    {
        var files = Directory.EnumerateFiles(dir).Where(VideoFiles.HasVideoExtension);
        var frameFolders = Directory.EnumerateDirectories(dir).Where(d => Directory.EnumerateFiles(d).Any(ImageFiles.HasImageExtension));
        return files.Concat(frameFolders).Order(StringComparer.Ordinal).ToList();
    }
}

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
    /// refused naming it. Files that look like examples but are not ones CoCa.MLNet reads as such (video files or images
    /// in other formats among images; loose image files beside videos, which are not a video) are refused naming them,
    /// never silently left out; pass <paramref name="skipped"/> to leave them out instead: it receives one warning line
    /// per class folder naming the files skipped. Other files (notes) are ignored, and so are hidden files and folders
    /// (names starting with a dot, such as <c>.ipynb_checkpoints</c> or macOS's <c>._photo.png</c>) and <c>__MACOSX</c>.
    /// </summary>
    public static List<LabelledInput> Read(string root, bool videos = false, Action<string>? skipped = null) =>
        Read(root, videos, skipped, LibraryAdvice);

    internal static List<LabelledInput> Read(string root, bool videos, Action<string>? skipped, SkipAdvice advice)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (File.Exists(root))
            throw new ArgumentException($"Data folder '{root}' is a file; expected a folder with one sub-folder per class holding its {What(videos)}.");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Data folder '{root}' does not exist (expected one sub-folder per class holding its {What(videos)}).");
        var classDirs = VisibleFolders(root).OrderBy(d => System.IO.Path.GetFileName(d), StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new ArgumentException($"Data folder '{root}' has no sub-folders; expected one sub-folder per class holding its {What(videos)}.");
        var examples = new List<LabelledInput>();
        foreach (var classDir in classDirs)
        {
            var label = System.IO.Path.GetFileName(classDir);
            if (videos) CheckVideoFolder(classDir, skipped, advice);
            else CheckImageFolder(classDir, skipped, advice);
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

    /// <summary>How a refusal tells the reader to skip files, or to read videos: the library names its parameters, the CLI its options.</summary>
    internal sealed record SkipAdvice(string Skip, string ReadVideos);

    private static readonly SkipAdvice LibraryAdvice = new(
        "pass a 'skipped' callback to ClassFolders.Read to leave them out", "ClassFolders.Read(..., videos: true)");

    /// <summary>
    /// Refuses folder <paramref name="folder"/> of images when it holds image files in formats CoCa.MLNet cannot read,
    /// or video files (an image dataset is not read as videos), listing them; with <paramref name="skipped"/> they are
    /// left out and it gets a warning line naming them.
    /// </summary>
    internal static void CheckImageFolder(string folder, Action<string>? skipped, SkipAdvice advice)
    {
        var files = VisibleFiles(folder).Order(StringComparer.Ordinal).ToList();
        var unreadable = files.Where(f => ImageFiles.OtherImageExtensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant())).ToList();
        var videoFiles = files.Where(VideoFiles.HasVideoExtension).ToList();
        if (unreadable.Count == 0 && videoFiles.Count == 0) return;
        if (skipped is null)
        {
            var problems = new List<string>();
            if (unreadable.Count > 0)
                problems.Add($"Folder '{folder}' holds {unreadable.Count} image file(s) in formats CoCa.MLNet cannot read: {Names(unreadable)} " +
                    $"(it reads {string.Join(" ", ImageFiles.Extensions)}); convert them (e.g. to PNG), or {advice.Skip}.");
            if (videoFiles.Count > 0)
                problems.Add($"Folder '{folder}' holds {videoFiles.Count} video file(s) among images: {Names(videoFiles)}; videos are read only as a video dataset " +
                    $"({advice.ReadVideos}): move them out, or {advice.Skip}.");
            throw new InvalidDataException(string.Join(" ", problems));
        }
        if (unreadable.Count > 0) skipped($"skipping {unreadable.Count} image file(s) in '{folder}' that CoCa.MLNet cannot read: {Names(unreadable)}.");
        if (videoFiles.Count > 0) skipped($"skipping {videoFiles.Count} video file(s) in '{folder}', an image folder: {Names(videoFiles)}.");
    }

    /// <summary>
    /// Refuses class folder <paramref name="folder"/> of videos when it holds loose image files: frames belong in a
    /// folder of their own (one folder, one video), and a loose image is not a video.
    /// </summary>
    private static void CheckVideoFolder(string folder, Action<string>? skipped, SkipAdvice advice)
    {
        var images = VisibleFiles(folder).Where(ImageFiles.HasImageExtension).Order(StringComparer.Ordinal).ToList();
        if (images.Count == 0) return;
        if (skipped is null)
            throw new InvalidDataException($"Class folder '{folder}' holds {images.Count} image file(s) beside its videos: {Names(images)}; " +
                $"a video is a video file ({string.Join(" ", VideoFiles.Extensions)}) or a folder of its frame images: move each video's frames into a folder of their own, or {advice.Skip}.");
        skipped($"skipping {images.Count} image file(s) in '{folder}', a video folder (a video's frames go in a folder of their own): {Names(images)}.");
    }

    /// <summary>The first ten file names of <paramref name="paths"/>, and how many in all when there are more.</summary>
    private static string Names(IReadOnlyList<string> paths) =>
        string.Join(", ", paths.Take(10).Select(System.IO.Path.GetFileName)) + (paths.Count > 10 ? $", ... ({paths.Count} in all)" : "");

    /// <summary>
    /// False for what tools leave beside data, never examples: hidden names (<c>.ipynb_checkpoints</c>, macOS's
    /// <c>._photo.png</c> resource forks, <c>.DS_Store</c>) and the <c>__MACOSX</c> folder of zips made on a Mac.
    /// </summary>
    private static bool NotHidden(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        return !name.StartsWith('.') && name != "__MACOSX";
    }

    private static IEnumerable<string> VisibleFiles(string folder) => Directory.EnumerateFiles(folder).Where(NotHidden);

    private static IEnumerable<string> VisibleFolders(string folder) => Directory.EnumerateDirectories(folder).Where(NotHidden);

    private static string What(bool videos) => videos ? "videos (video files or folders of frame images)" : "images";

    private static List<string> Images(string dir) =>
        VisibleFiles(dir).Where(ImageFiles.HasImageExtension).Order(StringComparer.Ordinal).ToList();

    private static List<string> Videos(string dir)
    {
        var files = VisibleFiles(dir).Where(VideoFiles.HasVideoExtension);
        var frameFolders = VisibleFolders(dir).Where(d => VisibleFiles(d).Any(ImageFiles.HasImageExtension));
        return files.Concat(frameFolders).Order(StringComparer.Ordinal).ToList();
    }
}

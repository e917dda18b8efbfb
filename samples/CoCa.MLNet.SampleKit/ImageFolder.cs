using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Samples;

/// <summary>The captioning walkthroughs' input: a folder of images, sub-folders included.</summary>
public static class ImageFolder
{
    /// <summary>
    /// The image files (<see cref="ImageFiles"/>, any case of extension) under <paramref name="folder"/>, in ordinal
    /// order. A missing folder, a file, or a folder without images is refused, naming it and what was expected.
    /// </summary>
    public static List<string> Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (File.Exists(folder))
            throw new ArgumentException($"Image folder '{folder}' is a file; expected a folder of images.");
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist (expected a folder of images).");
        var paths = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(ImageFiles.HasImageExtension).Order(StringComparer.Ordinal).ToList();
        if (paths.Count == 0)
            throw new ArgumentException($"Image folder '{folder}' holds no images (looked for {string.Join(" ", ImageFiles.Extensions)} in it and its sub-folders).");
        return paths;
    }
}

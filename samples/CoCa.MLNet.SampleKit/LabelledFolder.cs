namespace CoCa.MLNet.Samples;

/// <summary>One labelled input: a file (image, video) or a folder (a video as frame images), and its class.</summary>
public sealed class LabelledInput
{
    public string Path { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>A dataset laid out as one sub-folder per class (the usual layout of image and video datasets).</summary>
public static class LabelledFolder
{
    /// <summary>
    /// The entries of each class folder under <paramref name="root"/> whose extension is one of
    /// <paramref name="extensions"/> (or every entry, folders included, when it is empty).
    /// </summary>
    public static List<LabelledInput> Read(string root, IReadOnlyCollection<string> extensions)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Data folder '{root}' does not exist.");
        var inputs = Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .SelectMany(dir => Directory.GetFileSystemEntries(dir).Order(StringComparer.Ordinal)
                .Where(p => extensions.Count == 0 || extensions.Contains(System.IO.Path.GetExtension(p).ToLowerInvariant()))
                .Select(p => new LabelledInput { Path = p, Label = System.IO.Path.GetFileName(dir) }))
            .ToList();
        var classes = inputs.Select(i => i.Label).Distinct().Count();
        if (classes < 2)
            throw new InvalidDataException($"Data folder '{root}' has {inputs.Count} usable entries in {classes} class folder(s); expected one sub-folder per class, at least two classes" +
                (extensions.Count > 0 ? $", files ending in {string.Join("/", extensions)}." : "."));
        return inputs;
    }
}

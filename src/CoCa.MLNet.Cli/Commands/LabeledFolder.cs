using CoCa.MLNet.Featurization;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>The library's folder-per-class reader (<see cref="ClassFolders"/>), after the CLI's check for image files in formats coca cannot read.</summary>
internal static class LabeledFolder
{
    public static List<LabelledInput> Read(string directory, bool video, bool skipUnreadable = false)
    {
        if (!video && Directory.Exists(directory))
            foreach (var classDir in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
                InputPaths.CheckUnreadableImages(classDir, skipUnreadable);
        return ClassFolders.Read(directory, video);
    }
}

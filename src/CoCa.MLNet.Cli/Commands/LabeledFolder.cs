using CoCa.MLNet.Featurization;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>The library's folder-per-class reader (<see cref="ClassFolders"/>), with the CLI's advice (--skip-unreadable, --video) in its refusals.</summary>
internal static class LabeledFolder
{
    public static List<LabelledInput> Read(string directory, bool video, bool skipUnreadable = false) =>
        ClassFolders.Read(directory, video, InputPaths.Skipped(skipUnreadable), InputPaths.Advice);
}

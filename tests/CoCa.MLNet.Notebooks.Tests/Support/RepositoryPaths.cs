namespace CoCa.MLNet.Notebooks.Tests.Support;

/// <summary>Folders of the repository this test build came from.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding CoCa.MLNet.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");
    public static string Samples => Path.Combine(Root, "samples");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoCa.MLNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No CoCa.MLNet.sln above '{AppContext.BaseDirectory}'.");
    }
}

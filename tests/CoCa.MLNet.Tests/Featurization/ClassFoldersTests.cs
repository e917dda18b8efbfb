using CoCa.MLNet.Featurization;

namespace CoCa.MLNet.Tests.Featurization;

/// <summary>The one folder-per-class reader (CLI, samples, notebooks).</summary>
public sealed class ClassFoldersTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("coca-class-folders-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Touch(string relative)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    [Fact]
    public void Images_AreTheFilesCoCaReads_ClassesAndFilesInOrdinalOrder()
    {
        Touch("dog/b.JPG"); Touch("dog/a.png"); Touch("cat/c.tif"); Touch("cat/notes.txt"); Touch("cat/d.webp");
        var read = ClassFolders.Read(_root);
        Assert.Equal(["cat/c.tif", "cat/d.webp", "dog/a.png", "dog/b.JPG"], read.Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
        Assert.Equal(["cat", "cat", "dog", "dog"], read.Select(r => r.Label));
        Assert.Equal(["cat", "dog"], ClassFolders.Classes(read));
    }

    [Fact]
    public void Videos_AreVideoFilesAndFoldersOfFrames()
    {
        Touch("left/clip.mp4"); Touch("left/frames/0001.png"); Touch("right/other/readme.txt"); Touch("right/x.webm");
        var read = ClassFolders.Read(_root, videos: true);
        Assert.Equal(["left/clip.mp4", "left/frames", "right/x.webm"], read.Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
    }

    [Fact]
    public void Mistakes_AreOneLineNamingTheFolder()
    {
        Assert.Contains("does not exist", Assert.Throws<DirectoryNotFoundException>(() => ClassFolders.Read(Path.Combine(_root, "nowhere"))).Message);
        Assert.Contains("has no sub-folders", Assert.Throws<ArgumentException>(() => ClassFolders.Read(_root)).Message);
        var file = Touch("notes.txt");
        Assert.Equal($"Data folder '{file}' is a file; expected a folder with one sub-folder per class holding its images.",
            Assert.Throws<ArgumentException>(() => ClassFolders.Read(file)).Message);   // not "does not exist"
        File.Delete(file);
        Touch("cat/notes.txt");
        var empty = Assert.Throws<ArgumentException>(() => ClassFolders.Read(_root)).Message;
        Assert.Contains(Path.Combine(_root, "cat"), empty);
        Assert.Contains("holds no images", empty);
    }
}

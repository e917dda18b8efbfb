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

    [Fact]
    public void FilesThatLookLikeExamplesButAreNotRead_AreRefusedByName_OrSkippedWithAWarning()
    {
        Touch("cat/a.png"); Touch("cat/clip.mp4"); Touch("cat/photo.heic"); Touch("dog/b.jpg"); Touch("dog/notes.txt");
        var refused = Assert.Throws<InvalidDataException>(() => ClassFolders.Read(_root)).Message;
        Assert.Contains($"Folder '{Path.Combine(_root, "cat")}' holds 1 image file(s) in formats CoCa.MLNet cannot read: photo.heic", refused);
        Assert.Contains("holds 1 video file(s) among images: clip.mp4", refused);
        Assert.Contains("'skipped' callback", refused);

        var warnings = new List<string>();
        var read = ClassFolders.Read(_root, skipped: warnings.Add);
        Assert.Equal(["cat/a.png", "dog/b.jpg"], read.Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
        Assert.Equal(2, warnings.Count);
        Assert.Contains("photo.heic", warnings[0]);
        Assert.Contains("clip.mp4", warnings[1]);
    }

    [Fact]
    public void LooseImagesInAVideoClassFolder_AreRefusedByName_OrSkippedWithAWarning()
    {
        Touch("left/clip.mp4"); Touch("left/0001.png"); Touch("left/0002.png"); Touch("right/frames/0001.png");
        var refused = Assert.Throws<InvalidDataException>(() => ClassFolders.Read(_root, videos: true)).Message;
        Assert.Contains($"Class folder '{Path.Combine(_root, "left")}' holds 2 image file(s) beside its videos: 0001.png, 0002.png", refused);

        var warnings = new List<string>();
        var read = ClassFolders.Read(_root, videos: true, skipped: warnings.Add);
        Assert.Equal(["left/clip.mp4", "right/frames"], read.Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
        Assert.Contains("0001.png, 0002.png", Assert.Single(warnings));
    }

    [Fact]
    public void HiddenFilesAndFolders_AndMacOSLeftovers_AreNotClassesOrExamples()
    {
        Touch("cat/a.png"); Touch("cat/._a.png"); Touch("cat/.DS_Store"); Touch(".ipynb_checkpoints/x.png"); Touch("__MACOSX/cat/._a.png");
        Touch("cat/.hidden.mp4");
        var read = ClassFolders.Read(_root);
        Assert.Equal(["cat/a.png"], read.Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
        Touch("left/clip.mp4"); Touch("left/._clip.mp4"); Touch("left/.frames/0001.png");
        Directory.Delete(Path.Combine(_root, "cat"), recursive: true);
        Assert.Equal(["left/clip.mp4"], ClassFolders.Read(_root, videos: true).Select(r => Path.GetRelativePath(_root, r.Path).Replace('\\', '/')));
    }
}

using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Samples;

namespace CoCa.MLNet.Notebooks.Tests;

/// <summary>
/// The walkthroughs' kit where a user's input is wrong: an option, a notebook setting, a folder. Each mistake is one
/// line naming the input and what was expected, never a stack trace.
/// </summary>
public sealed class SampleKitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("coca-sample-kit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly Dictionary<string, string> Options = new() { ["checkpoint"] = "checkpoint", ["data"] = "data", ["epochs"] = "epochs" };

    private static (int Code, string Output) RunMain(string[] args, Action<SampleArguments> run)
    {
        var writer = new StringWriter();
        var (stdout, stderr) = (Console.Out, Console.Error);
        Console.SetOut(writer);
        Console.SetError(writer);
        try { return (SampleArguments.RunMain(args, "app", "summary", Options, run), writer.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    [Fact]
    public void RunMain_AnUnreadableCheckpoint_IsOneErrorLine()
    {
        var (code, text) = RunMain([], _ => throw new CheckpointException("'x.txt' is neither a safetensors file nor a PyTorch (torch.save) checkpoint."));
        Assert.Equal(1, code);
        Assert.Equal("error: 'x.txt' is neither a safetensors file nor a PyTorch (torch.save) checkpoint.", text.Trim());
    }

    [Fact]
    public void RunMain_OursWrappedByAnMLNetWorker_IsOurLine()
    {
        var ours = new InvalidDataException("Cannot decode image 'bad.png'.");
        var (code, text) = RunMain([], _ => throw new InvalidOperationException("Splitter/consolidator worker encountered exception while consuming source data", ours));
        Assert.Equal(1, code);
        Assert.Equal("error: Cannot decode image 'bad.png'.", text.Trim());
    }

    [Fact]
    public void RunMain_ChecksInputPathsBeforeRunning()
    {
        bool ran = false;
        var missing = Path.Combine(_root, "no-such-folder");
        var (code, text) = RunMain(["--data", missing], _ => ran = true);
        Assert.Equal(1, code);
        Assert.False(ran);   // no minutes of training the tiny CoCa before the typo is reported
        Assert.Equal($"error: Option '--data': '{missing}' does not exist.", text.Trim());
    }

    [Fact]
    public void Usage_KeepsTheDescriptionsInOneColumn_AfterALongOptionName()
    {
        var usage = SampleArguments.Parse(["--help"], "app", "summary", new Dictionary<string, string> { ["data"] = "folder", ["trainable-blocks"] = "blocks" }).Usage;
        var columns = usage.Split('\n').Where(l => l.StartsWith("  --", StringComparison.Ordinal))
            .Select(l => l.IndexOf(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], l.IndexOf(' ', 4), StringComparison.Ordinal)).Distinct();
        Assert.Single(columns);
    }

    [Fact]
    public void NotebookSettings_AWrongSetting_IsOneLineWithoutAStackTrace()
    {
        var file = Path.Combine(_root, "notes.txt");
        File.WriteAllText(file, "not a folder");
        var e = Assert.Throws<NotebookSettingException>(() => NotebookSettings.Check("dataFolder", () => CoCa.MLNet.Featurization.ClassFolders.Read(file)));
        Assert.StartsWith($"dataFolder: Data folder '{file}' is a file;", e.Message);
        // The kernel shows a failed cell as ToString() and the stack trace: here, the one line alone.
        Assert.Equal(e.Message, e.ToString());
        Assert.Equal("", e.StackTrace);   // not null: the kernel's Jupyter front end splits it without a null check
        Assert.IsType<ArgumentException>(e.InnerException);

        var vocab = Path.Combine(_root, "vocab.txt.gz");
        Assert.Equal($"vocab: '{vocab}' does not exist; expected open_clip's vocabulary.",
            Assert.Throws<NotebookSettingException>(() => NotebookSettings.ExistingPath("vocab", vocab, "open_clip's vocabulary")).Message);
        Assert.Equal("vocab is not set; expected open_clip's vocabulary.",
            Assert.Throws<NotebookSettingException>(() => NotebookSettings.ExistingPath("vocab", null, "open_clip's vocabulary")).Message);
        Assert.Equal(file, NotebookSettings.ExistingPath("vocab", file, "x"));
    }

    [Fact]
    public void NotebookSettings_ABug_KeepsItsStackTrace()
    {
        Assert.Throws<NullReferenceException>(() => NotebookSettings.Check<int>("dataFolder", () => throw new NullReferenceException()));
    }

    [Fact]
    public void InputFiles_ACorruptOrTruncatedImage_IsOneLineNamingIt_AllBadOnesAtOnce()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "photos")).FullName;
        using (var bitmap = new SkiaSharp.SKBitmap(256, 192))
        {
            var random = new Random(1);   // noise: the JPEG is mostly scan data, so the cut below lands in it, past the header
            for (int y = 0; y < bitmap.Height; y++)
                for (int x = 0; x < bitmap.Width; x++)
                    bitmap.SetPixel(x, y, new SkiaSharp.SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
            File.WriteAllBytes(Path.Combine(folder, "good.png"), image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray());
            var jpeg = image.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90).ToArray();
            File.WriteAllBytes(Path.Combine(folder, "good.jpg"), jpeg);
            var good = ImageFolder.Read(folder);
            Assert.Same(good, InputFiles.CheckImages(good));
            File.WriteAllBytes(Path.Combine(folder, "truncated.jpg"), jpeg[..(jpeg.Length * 2 / 3)]);
        }

        var text = Path.Combine(folder, "text.png");
        File.WriteAllText(text, "not an image");
        var e = Assert.Throws<NotebookSettingException>(() => NotebookSettings.Check("imageFolder", () => InputFiles.CheckImages(ImageFolder.Read(folder))));
        // Two bad files: a line each, in path order, after one that counts them; nothing else.
        var lines = e.Message.Split('\n');
        Assert.Equal([$"imageFolder: 2 of 4 images cannot be read:",
                      $"Cannot decode image '{text}': it is not in a recognised image format or its header is corrupt (Unimplemented); expected PNG, JPEG, BMP, GIF, WebP or TIFF.",
                      $"Cannot decode Jpeg image '{Path.Combine(folder, "truncated.jpg")}': its data is truncated (IncompleteInput); expected a complete PNG, JPEG, BMP, GIF, WebP or TIFF file."], lines);
        Assert.Equal(e.Message, e.ToString());

        // One bad file: its own line, as the featurizer would have thrown it.
        File.Delete(text);
        e = Assert.Throws<NotebookSettingException>(() => NotebookSettings.Check("imageFolder", () => InputFiles.CheckImages(ImageFolder.Read(folder))));
        Assert.Equal($"imageFolder: Cannot decode Jpeg image '{Path.Combine(folder, "truncated.jpg")}': its data is truncated (IncompleteInput); expected a complete PNG, JPEG, BMP, GIF, WebP or TIFF file.", e.Message);
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void ImageFolder_ReadsEveryFormatInAnyCase_AndRefusesWrongFolders()
    {
        foreach (var name in (string[])["b.JPG", "a.png", "sub/c.jpeg", "d.webp", "e.TIFF", "notes.txt"])
        {
            var path = Path.Combine(_root, "images", name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, []);
        }
        var images = ImageFolder.Read(Path.Combine(_root, "images"));
        Assert.Equal(["a.png", "b.JPG", "d.webp", "e.TIFF", "sub/c.jpeg"], images.Select(p => Path.GetRelativePath(Path.Combine(_root, "images"), p)));

        var file = Path.Combine(_root, "images", "a.png");
        Assert.Equal($"Image folder '{file}' is a file; expected a folder of images.", Assert.Throws<ArgumentException>(() => ImageFolder.Read(file)).Message);
        var missing = Path.Combine(_root, "none");
        Assert.Equal($"Image folder '{missing}' does not exist (expected a folder of images).", Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Read(missing)).Message);
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        Assert.StartsWith($"Image folder '{empty}' holds no images (looked for .png", Assert.Throws<ArgumentException>(() => ImageFolder.Read(empty)).Message);
    }
}

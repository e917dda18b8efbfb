using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Training.Tests.FineTuning;

public sealed class ImageCaptionPairsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-pairs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Csv_PathsRelativeToTheFile_QuotedCaptions_ExtraColumns()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "img"));
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "img", "a.png"), [1]);
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "img", "b.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "id,image,caption\n1,img/a.png,\"a cat, \"\"sitting\"\"\"\n\n2,img/b.png,a dog\n");
        var pairs = ImageCaptionPairs.Read(csv);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(Path.Combine(_dir, "img", "a.png"), pairs[0].ImagePath);
        Assert.Equal("a cat, \"sitting\"", pairs[0].Caption);
        Assert.Equal(2, pairs[0].Line);
        Assert.Equal(4, pairs[1].Line);
    }

    [Fact]
    public void Csv_BadRows_AreReportedByLineNumber()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "a.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "image,caption\na.png,fine\nmissing.png,no image\na.png,\na.png\n\"a.png,unclosed\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv));
        Assert.Contains("4 bad row(s)", ex.Message);
        Assert.Contains("line 3: image 'missing.png' does not exist", ex.Message);
        Assert.Contains("line 4: the caption is empty", ex.Message);
        Assert.Contains("line 5: 1 field(s), expected 2", ex.Message);
        Assert.Contains("line 6: a quoted field is not closed", ex.Message);
        Assert.DoesNotContain("line 2", ex.Message);
    }

    [Fact]
    public void Csv_AnUnquotedCommaInACaption_IsRefusedWithTheLineAndAHint_NeverCut()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "p.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "image,caption\np.png,a red circle\np.png,a red circle, on the left\np.png,\"a red circle, on the left\"\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv));
        Assert.Contains("1 bad row(s)", ex.Message);
        Assert.Contains("line 3: 3 fields but the header has 2 (image,caption)", ex.Message);
        Assert.Contains("double quotes", ex.Message);

        // Quoted, the same caption is read whole.
        System.IO.File.WriteAllText(csv, "image,caption\np.png,\"a red circle, on the left\"\n");
        Assert.Equal("a red circle, on the left", Assert.Single(ImageCaptionPairs.Read(csv)).Caption);
    }

    [Fact]
    public void Csv_QuotedFieldsMaySpanLines_AsRfc4180Says_AndLinesCountFromWhereARowStarts()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "p.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "image,caption\r\np.png,\"two\r\nlines, and \"\"quotes\"\"\"\r\n\r\n p.png , spaced \r\nmissing.png,x\r\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv));
        Assert.Contains("line 6: image 'missing.png' does not exist", ex.Message); // the row after the two-line caption and a blank line

        System.IO.File.WriteAllText(csv, "image,caption\r\np.png,\"two\r\nlines, and \"\"quotes\"\"\"\r\n\r\n p.png , spaced \r\n");
        var pairs = ImageCaptionPairs.Read(csv);
        Assert.Equal(["two\r\nlines, and \"quotes\"", "spaced"], pairs.Select(p => p.Caption));
        Assert.Equal([2, 5], pairs.Select(p => p.Line));
        Assert.All(pairs, p => Assert.Equal(Path.Combine(_dir, "p.png"), p.ImagePath));
    }

    [Fact]
    public void Csv_BadQuoting_IsReportedByLine()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "p.png"), [1]);
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "image,caption\np.png,a \"quoted\" word\np.png,\"closed\" then text\np.png,fine\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv));
        Assert.Contains("2 bad row(s)", ex.Message);
        Assert.Contains("line 2: a quote inside an unquoted field", ex.Message);
        Assert.Contains("line 3: text after the closing quote", ex.Message);
    }

    [Fact]
    public void VideoFilesAndFrameFolders_AreVideoRows()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "p.png"), [1]);
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "clip.mp4"), [1]);
        Directory.CreateDirectory(Path.Combine(_dir, "frames"));
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "frames", "0001.png"), [1]);
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "image,caption\np.png,a picture\nclip.mp4,a clip\nframes/,some frames\nframes,the same frames\n");
        var pairs = ImageCaptionPairs.Read(csv);
        Assert.Equal([false, true, true, true], pairs.Select(p => p.IsVideo));
        Assert.Equal(pairs[2].ImagePath, pairs[3].ImagePath); // one video, two captions

        System.IO.File.AppendAllText(csv, "empty,nothing to see\n");
        Assert.Contains("line 6: 'empty' is a folder without frame images", Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv)).Message);
    }

    [Fact]
    public void Csv_WithoutTheColumns_SaysWhichHeaderIsExpected()
    {
        var csv = Path.Combine(_dir, "pairs.csv");
        System.IO.File.WriteAllText(csv, "filepath,title\nx.png,y\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(csv));
        Assert.Contains("'image' and 'caption'", ex.Message);
    }

    [Fact]
    public void JsonLines_ReadsPairs_AndReportsBadLines()
    {
        System.IO.File.WriteAllBytes(Path.Combine(_dir, "a.png"), [1]);
        var good = Path.Combine(_dir, "good.jsonl");
        System.IO.File.WriteAllText(good, "{\"image\": \"a.png\", \"caption\": \"a red circle\"}\n{\"image\": \"a.png\", \"caption\": \"again\", \"extra\": 1}\n");
        var pairs = ImageCaptionPairs.Read(good);
        Assert.Equal(["a red circle", "again"], pairs.Select(p => p.Caption));

        var bad = Path.Combine(_dir, "bad.jsonl");
        System.IO.File.WriteAllText(bad, "{\"image\": \"a.png\", \"caption\": \"ok\"}\n{\"image\": \"a.png\"}\nnot json\n");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptionPairs.Read(bad));
        Assert.Contains("line 2: expected string fields", ex.Message);
        Assert.Contains("line 3: not valid JSON", ex.Message);
    }
}

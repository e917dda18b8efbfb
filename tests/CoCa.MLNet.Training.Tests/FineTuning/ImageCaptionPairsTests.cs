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

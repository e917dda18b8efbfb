using CoCa.MLNet.Cli.Features;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CoCa.MLNet.IO;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Tests.Text;

/// <summary>The vocabulary file formats a user may bring, and what happens with broken ones.</summary>
public sealed class ClipVocabularyFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-clip-vocab-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    [FixtureFact]
    public void VocabJsonWithMergesGivesTheSameIds()
    {
        // A Hugging Face style CLIP tokenizer: vocab.json (specials named <|startoftext|>/<|endoftext|>) + merges.txt.
        var model = ClipBpeFiles.Load(Fixtures.ClipBpe);
        var vocab = new Dictionary<string, int>();
        for (int id = 0; id < model.Tokens.Count; id++) vocab[model.Tokens[id]] = id;
        vocab.Remove("<start_of_text>");
        vocab.Remove("<end_of_text>");
        vocab["<|startoftext|>"] = 49406;
        vocab["<|endoftext|>"] = 49407;
        var folder = Directory.CreateDirectory(PathOf("hf")).FullName;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. model.Merges.Select(m => m.Left + " " + m.Right)]);

        var fromJson = ClipTokenizer.FromFile(Path.Combine(folder, "vocab.json"));
        var fromGz = ClipTokenizer.FromFile(Fixtures.ClipBpe);
        var captions = File.ReadAllLines(Fixtures.Tiny("captions.txt"));
        string[] texts = [.. captions, "it's 2024 😀 猫 É &amp; <start_of_text>", ""];

        Assert.Equal(49408, fromJson.VocabularySize);
        Assert.Equal(fromGz.EncodeBatch(texts), fromJson.EncodeBatch(texts));
        Assert.Equal(Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy")).Data, fromJson.EncodeBatch(captions));
        Assert.Equal("<start_of_text>a cat <end_of_text>", fromJson.Decode([49406, 320, 2368, 49407]));
    }

    [FixtureFact]
    public void UncompressedMergesFileWorksToo()
    {
        var plain = PathOf("bpe_simple_vocab_16e6.txt");
        using (var gz = new GZipStream(File.OpenRead(Fixtures.ClipBpe), CompressionMode.Decompress))
        using (var output = File.Create(plain))
            gz.CopyTo(output);
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 320, 2368, 49407, 0 }, ClipTokenizer.FromFile(plain).Encode("a photo of a cat")[..8]);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var missing = PathOf("nope.txt.gz");
        var e = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFile(missing));
        Assert.Contains(missing, e.Message);

        var json = PathOf("vocab.json");
        File.WriteAllText(json, "{\"a\": 0}");
        var noMerges = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFile(json));
        Assert.Contains("merges.txt", noMerges.Message);

        Assert.Throws<ArgumentException>(() => ClipTokenizer.FromFile(_dir.FullName));
    }

    [Fact]
    public void CorruptFilesGiveInvalidData()
    {
        var badGzip = PathOf("bad.txt.gz");
        File.WriteAllBytes(badGzip, [0x1F, 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.Contains(badGzip, Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(badGzip)).Message);

        var shortFile = PathOf("short.txt");
        File.WriteAllLines(shortFile, ["#version: 0.2", "i n", "t h"]);
        Assert.Contains("48894", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(shortFile)).Message.Replace(",", ""));

        var badLine = PathOf("badline.txt");
        File.WriteAllLines(badLine, ["#version: 0.2", "i n", "t h e", .. Enumerable.Repeat("a b", 49000)]);
        Assert.Contains("line 3", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(badLine)).Message);

        var notJson = PathOf("vocab.json");
        File.WriteAllText(notJson, "[1, 2");
        File.WriteAllText(PathOf("merges.txt"), "#version: 0.2\n");
        Assert.Contains(notJson, Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(notJson)).Message);

        File.WriteAllText(notJson, "{\"a\": 0, \"b\": 1}");
        Assert.Contains("49406", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(notJson)).Message);

        var binary = PathOf("binary.txt");
        File.WriteAllBytes(binary, [0xFF, 0xFE, 0x00, 0xC3]);
        Assert.Contains(binary, Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(binary)).Message);
    }

    [FixtureFact]
    public void MergesThatDoNotFormTheVocabularyAreRejected()
    {
        // A merges file whose merge names a token the earlier merges never formed.
        var lines = Encoding.UTF8.GetString(Decompress(Fixtures.ClipBpe)).Split('\n');
        lines[5] = "zzzz q";
        var broken = PathOf("broken.txt");
        File.WriteAllText(broken, string.Join('\n', lines));
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(broken));
        Assert.Contains(broken, e.Message);
    }

    [Fact]
    public void ErrorsOfAStoredVocabularyNameTheUsersFiles_NotTheTemporaryCopy()
    {
        // A CLIP-sized vocab.json whose merges.txt has a bad line; the tokenizer is built from copies in a temporary
        // folder (as a captioner or a saved model builds it), but the error must name the user's merges.txt.
        var folder = Directory.CreateDirectory(PathOf("user")).FullName;
        var vocab = new Dictionary<string, int>();
        for (int id = 0; id < 49406; id++) vocab["t" + id] = id;
        vocab["<|startoftext|>"] = 49406;
        vocab["<|endoftext|>"] = 49407;
        var json = Path.Combine(folder, "vocab.json");
        File.WriteAllText(json, JsonSerializer.Serialize(vocab));
        var merges = Path.Combine(folder, "merges.txt");
        File.WriteAllText(merges, "#version: 0.2\nt1 t2\nnot-a-merge\n");

        var files = CoCa.MLNet.Featurization.ClipVocabularyFiles.Read(json);
        var e = Assert.Throws<InvalidDataException>(() => files.CreateTokenizer());
        Assert.Contains($"'{merges}' line 3", e.Message);
        Assert.DoesNotContain("coca-vocab-", e.Message);
    }

    private static byte[] Decompress(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }
}

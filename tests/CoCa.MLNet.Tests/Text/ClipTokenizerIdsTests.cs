using CoCa.MLNet.Text;

namespace CoCa.MLNet.Tests.Text;

/// <summary>
/// Ids for texts that exercise each rule of open_clip's tokenizer. Every expected id was looked up in the
/// vocabulary open_clip builds from bpe_simple_vocab_16e6 (byte chars 0..255, the same with "&lt;/w&gt;" 256..511,
/// then one token per merge): whole words that are one token, single characters, and short words whose
/// merges were followed by hand from the merge ranks (noted beside them).
/// </summary>
public class ClipTokenizerIdsTests
{
    private const long Sot = ClipTokenizer.StartOfTextId, Eot = ClipTokenizer.EndOfTextId;
    private static readonly Lazy<ClipTokenizer> Shared = new(() => ClipTokenizer.FromFile(Fixtures.ClipBpe));
    private static ClipTokenizer Tokenizer => Shared.Value;

    [FixtureTheory]
    [InlineData("")]
    [InlineData("   \t\n ")]
    [InlineData("&#32;&nbsp;")] // unescaped to white space, then stripped
    public void EmptyTextIsStartThenEndThenPadding(string text)
    {
        Assert.Empty(Tokenizer.EncodeToIds(text));
        var row = Tokenizer.Encode(text);
        Assert.Equal(76, row.Length);
        Assert.Equal(Sot, row[0]);
        Assert.Equal(Eot, row[1]);
        Assert.All(row[2..], id => Assert.Equal(0L, id));
    }

    [FixtureTheory]
    // Each digit is its own word: "1</w>" = 256 + byte index of '1' (16) = 272, and so on.
    [InlineData("in 1984", new[] { 530, 272, 280, 279, 275 })]
    [InlineData("2024", new[] { 273, 271, 273, 275 })]
    // Punctuation runs are one word: "!?" = '!' + "?</w>" merged (rank 5492) → "!?</w>" 6004;
    // "!!!" = ['!','!','!</w>'] → "!!</w>" (rank 236) → "!!!</w>" (rank 483) = 995.
    [InlineData("hi, there!?", new[] { 1883, 267, 997, 6004 })]
    [InlineData("Hello!!!", new[] { 3306, 995 })]
    // Contractions split off: "'s</w>" 568; "'ll" → "ll</w>" (rank 353) → "'ll</w>" (rank 830) = 1342.
    [InlineData("it's", new[] { 585, 568 })]
    [InlineData("We'll", new[] { 649, 1342 })]
    // Case and white space do not matter.
    [InlineData("  Two\t\n  PEOPLE \u3000", new[] { 1237, 1047 })]
    [InlineData("A PHOTO of a CAT", new[] { 320, 1125, 539, 320, 2368 })]
    // Accented: 'é' is bytes C3 A9 = chars "Ã©", merged (rank 3654) into "Ã©</w>" 4166.
    [InlineData("É", new[] { 4166 })]
    // CJK: 猫 is bytes E7 8C AB = "çĮ«" and no merge joins them: 'ç' 163, 'Į' 234, "«</w>" 360.
    [InlineData("猫", new[] { 163, 234, 360 })]
    // Emoji: F0 9F 98 80 = "ðŁĺĢ" → "ðŁ" (rank 46) → "ðŁĺ" (156) → "ðŁĺĢ</w>" (6822) = 7334.
    [InlineData("😀", new[] { 7334 })]
    // HTML entities are unescaped (twice): "&</w>" 261, '<' 283, 'b' 321, '>' 285.
    [InlineData("fish &amp; chips", new[] { 2759, 261, 8855 })]
    [InlineData("fish &amp;amp; chips", new[] { 2759, 261, 8855 })]
    [InlineData("fish &amp chips", new[] { 2759, 261, 8855 })]
    [InlineData("&lt;b&gt;", new[] { 283, 321, 285 })]
    // The special tokens' text (any case) is the special id.
    [InlineData("<start_of_text>cat<END_OF_TEXT>", new[] { 49406, 2368, 49407 })]
    public void TextGivesTheIdsOpenClipsAlgorithmDefines(string text, int[] expected)
    {
        Assert.Equal(expected, Tokenizer.EncodeToIds(text));
        long[] row = [Sot, .. expected.Select(i => (long)i), Eot];
        Assert.Equal(row, Tokenizer.Encode(text)[..row.Length]);
    }

    [FixtureFact]
    public void LongTextIsCutToTheContextKeepingTheEndToken()
    {
        var text = string.Join(" ", Enumerable.Repeat("cat", 100));
        Assert.Equal(Enumerable.Repeat(2368, 100), Tokenizer.EncodeToIds(text));

        var row = Tokenizer.Encode(text);
        Assert.Equal(76, row.Length);
        Assert.Equal(Sot, row[0]);
        Assert.All(row[1..75], id => Assert.Equal(2368L, id));
        Assert.Equal(Eot, row[75]);

        // 74 words fill the context exactly: nothing is cut. 75 words lose the last one.
        var fits = Tokenizer.Encode(string.Join(" ", Enumerable.Repeat("cat", 74)));
        Assert.Equal(Eot, fits[75]);
        Assert.Equal(74, fits.Count(id => id == 2368));
        var over = Tokenizer.Encode(string.Join(" ", Enumerable.Repeat("cat", 75)));
        Assert.Equal(74, over.Count(id => id == 2368));
        Assert.Equal(Eot, over[75]);
    }

    [FixtureFact]
    public void ContextLengthIsHonoured()
    {
        Assert.Equal(new long[] { Sot, 320, 1125, 539, Eot }, Tokenizer.Encode("a photo of a cat", 5));
        var row77 = Tokenizer.Encode("a photo of a cat", 77);
        Assert.Equal(77, row77.Length);
        Assert.Equal(new long[] { Sot, 320, 1125, 539, 320, 2368, Eot, 0 }, row77[..8]);
        Assert.Equal(new long[] { Eot }, Tokenizer.Encode("a photo of a cat", 1)); // open_clip: [sot] then last set to eot
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("cat", 0));
    }

    [FixtureFact]
    public void BatchIsRowMajorRowsOfEncode()
    {
        string[] texts = ["a cat", "", "two people"];
        var batch = Tokenizer.EncodeBatch(texts, 8);
        Assert.Equal(new long[]
        {
            Sot, 320, 2368, Eot, 0, 0, 0, 0,
            Sot, Eot, 0, 0, 0, 0, 0, 0,
            Sot, 1237, 1047, Eot, 0, 0, 0, 0,
        }, batch);
        Assert.Empty(Tokenizer.EncodeBatch([], 8));
        var error = Assert.Throws<ArgumentException>(() => Tokenizer.EncodeBatch(["a", null!]));
        Assert.Contains("1", error.Message);
    }

    [FixtureFact]
    public void ConcurrentUseGivesTheSameIds()
    {
        string[] texts = ["a photo of a cat", "fish &amp; chips", "猫 😀 É", "it's 2024!!!", "two   people"];
        var fresh = ClipTokenizer.FromFile(Fixtures.ClipBpe); // its word cache starts empty and fills concurrently
        var results = new long[64][];
        Parallel.For(0, results.Length, i => results[i] = fresh.EncodeBatch(texts));
        var expected = Tokenizer.EncodeBatch(texts);
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [FixtureFact]
    public void DecodeGivesTextBackLikeOpenClip()
    {
        // "</w>" becomes a space, special tokens show as their text, bytes are joined before UTF-8 decoding.
        Assert.Equal("a photo of a cat ", Tokenizer.Decode([320, 1125, 539, 320, 2368]));
        Assert.Equal("<start_of_text>a cat <end_of_text>", Tokenizer.Decode([49406, 320, 2368, 49407]));
        Assert.Equal("猫 ", Tokenizer.Decode([163, 234, 360]));
        Assert.Equal("\uFFFD", Tokenizer.Decode([163])); // a lone lead byte of a 3-byte character
        Assert.Equal("!", Tokenizer.Decode([0])); // id 0 (padding) is the '!' byte, as in open_clip
        // Every word ends in "</w>", so punctuation and each digit come back as separate words.
        Assert.Equal("the eiffel tower at night , 1 8 8 9 😀 猫 é ", Tokenizer.Decode(Tokenizer.EncodeToIds("The Eiffel tower at night, 1889 😀 猫 É")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([49408]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([-1]));
    }
}

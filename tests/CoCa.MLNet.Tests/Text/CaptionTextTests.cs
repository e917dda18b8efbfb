using CoCa.MLNet.Text;

namespace CoCa.MLNet.Tests.Text;

/// <summary>The detokenizer against open_clip's texts of the fixture captions (invalid UTF-8 bytes included).</summary>
public sealed class CaptionTextTests
{
    private const long Start = ClipTokenizer.StartOfTextId, End = ClipTokenizer.EndOfTextId;

    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.FromFile(Fixtures.ClipBpe));

    [CaptionFixtureFact]
    public void DecodeCaptionGivesOpenClipsTexts()
    {
        var expected = CaptionFixture.Expected.Value;
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected.GreedyText[i], Tokenizer.Value.DecodeCaption(expected.Greedy[i]));
            Assert.Equal(expected.BeamText[i], Tokenizer.Value.DecodeCaption(expected.Beam[i]));
        }
    }

    [FixtureFact]
    public void StartAndEndTokensGoAndTheTextIsStripped()
    {
        Assert.Equal("a photo of a cat", Tokenizer.Value.DecodeCaption([Start, 320, 1125, 539, 320, 2368, End, 320]));
        Assert.Equal("a cat", Tokenizer.Value.DecodeCaption([Start, 320, 2368]));   // no end token (length limit)
        Assert.Equal("", Tokenizer.Value.DecodeCaption([Start, End]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Value.DecodeCaption([Start, End + 1]));
    }
}

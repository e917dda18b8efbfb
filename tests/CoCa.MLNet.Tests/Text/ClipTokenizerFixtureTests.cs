using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Tests.Text;

/// <summary>The tokenizer against ids that open_clip itself produced.</summary>
public class ClipTokenizerFixtureTests
{
    [FixtureFact]
    public void CaptionsGiveOpenClipsReferenceIds()
    {
        var tokenizer = ClipTokenizer.FromFile(Fixtures.ClipBpe);
        var captions = File.ReadAllLines(Fixtures.Tiny("captions.txt"));
        var expected = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
        Assert.Equal(new long[] { captions.Length, 76 }, expected.Shape);

        var ids = tokenizer.EncodeBatch(captions);

        Assert.Equal(expected.Data, ids);
        for (int i = 0; i < captions.Length; i++)
            Assert.Equal(expected.Data.AsSpan(i * 76, 76).ToArray(), tokenizer.Encode(captions[i]));
    }

    [FixtureFact]
    public void APhotoOfACatMatchesOpenClip()
    {
        // open_clip (v2.23, ftfy stubbed) gives [49406, 320, 1125, 539, 320, 2368, 49407, 0, ...] for this text.
        var tokenizer = ClipTokenizer.FromFile(Fixtures.ClipBpe);
        var row = tokenizer.Encode("a photo of a cat");
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 320, 2368, 49407 }, row[..7]);
        Assert.All(row[7..], id => Assert.Equal(0L, id));
        Assert.Equal(49408, tokenizer.VocabularySize);
    }
}

using CoCa.MLNet.Captioning;

namespace CoCa.MLNet.Tests.Captioning;

/// <summary>The ONNX caption decoder + .NET decoding against open_clip's generate() on the fixture's caption tokens.</summary>
public sealed class CaptionDecoderParityTests
{
    [CaptionFixtureTheory]
    [InlineData(CaptionDecoding.Greedy, true)]
    [InlineData(CaptionDecoding.Greedy, false)]
    [InlineData(CaptionDecoding.BeamSearch, true)]
    [InlineData(CaptionDecoding.BeamSearch, false)]
    public void IdsEqualOpenClipsForAllSixImages(CaptionDecoding decoding, bool cache)
    {
        var expected = CaptionFixture.Expected.Value;
        var ids = CaptionFixture.Decoder.Value.Generate(CaptionFixture.CaptionTokens(), 6,
            new CaptionGenerationOptions { Decoding = decoding, UseCache = cache });
        var reference = decoding == CaptionDecoding.Greedy ? expected.Greedy : expected.Beam;
        for (int i = 0; i < 6; i++)
            Assert.True(reference[i].SequenceEqual(ids[i]), $"{decoding} image {i}: [{string.Join(", ", ids[i])}] vs open_clip [{string.Join(", ", reference[i])}]");
    }

    [CaptionFixtureFact]
    public void OneImageAtATimeGivesTheBatchedCaptions()
    {
        var expected = CaptionFixture.Expected.Value;
        var tokens = CaptionFixture.CaptionTokens();
        int per = tokens.Length / 6;
        for (int i = 0; i < 6; i++)
        {
            var ids = CaptionFixture.Decoder.Value.Generate(tokens.AsSpan(i * per, per).ToArray(), 1, new CaptionGenerationOptions());
            Assert.Equal(expected.Beam[i], ids[0]);
        }
    }
}

using System.Text.Json;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Text;
using CoCa.MLNet.Training.Captioning;
using CoCa.MLNet.Training.Tests.FineTuning;
using TorchSharp;
using Xunit.Abstractions;
using static CoCa.MLNet.Tests.Shared.CaptionFixture;

namespace CoCa.MLNet.Training.Tests.Captioning;

/// <summary>
/// Captions decoded by the TorchSharp CoCa (what the fine-tuner's caption metrics run on) against open_clip's own
/// generate() output for the caption fixture (ref_captions.json): the same ids, token for token, and the same text.
/// </summary>
public sealed class TorchCaptioningTests(ITestOutputHelper output)
{
    private sealed record Expected(long[][] Greedy, long[][] Beam, string[] GreedyText);

    private static Expected ReadExpected()
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File(Folder, "ref_captions.json")));
        var root = doc.RootElement;
        static long[][] Ids(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        return new Expected(Ids(root.GetProperty("greedy")), Ids(root.GetProperty("beam")),
            root.GetProperty("greedy_text").EnumerateArray().Select(x => x.GetString()!).ToArray());
    }

    [FixtureFact]
    public void Greedy_EqualsOpenClipsIdsAndText()
    {
        var expected = ReadExpected();
        using var model = Load(Folder);
        using var pixels = Pixels(Folder, model.Config);
        var options = TorchCaptioning.Greedy(model.Config);
        Assert.Equal((CaptionDecoding.Greedy, 30, 5), (options.Decoding, options.MaxTokens, options.MinTokens));   // open_clip's seq_len and min_seq_len

        var ids = TorchCaptioning.Generate(model, pixels, options);
        Assert.True(model.training, "the model's train mode was not restored");
        var tokenizer = ClipTokenizer.FromFile(Fixtures.ClipBpe);
        for (int i = 0; i < expected.Greedy.Length; i++)
        {
            output.WriteLine($"image {i}: {tokenizer.DecodeCaption(ids[i])}");
            Assert.Equal(expected.Greedy[i], ids[i]);
            Assert.Equal(expected.GreedyText[i], tokenizer.DecodeCaption(ids[i]));
        }
        // Images decoded one at a time get the same captions as in one batch (finished rows do not disturb the others).
        Assert.Equal(expected.Greedy[4], TorchCaptioning.Generate(model, pixels[4..5], options)[0]);
    }

    [FixtureFact]
    public void BeamSearch_EqualsOpenClipsIds()
    {
        var expected = ReadExpected();
        using var model = Load(Folder);
        using var pixels = Pixels(Folder, model.Config);
        var ids = TorchCaptioning.Generate(model, pixels, new CaptionGenerationOptions());   // open_clip's default: 6 beams
        for (int i = 0; i < expected.Beam.Length; i++) Assert.Equal(expected.Beam[i], ids[i]);
    }

    [Fact]
    public void Greedy_IsCappedAtTheTextContext()
    {
        // TinyPairs' model reads 12 tokens: 12 + the next one, not open_clip's 30 (the text tower has no 13th position).
        var options = TorchCaptioning.Greedy(TinyPairs.Config);
        Assert.Equal((13, 5), (options.MaxTokens, options.MinTokens));
        using var model = new Training.Modules.CoCaModel(TinyPairs.Config);
        using var pixels = torch.zeros(1, 3, TinyPairs.Config.Vision.ImageSize, TinyPairs.Config.Vision.ImageSize);
        var ex = Assert.Throws<ArgumentException>(() => TorchCaptioning.Generate(model, pixels, options with { MaxTokens = 14 }));
        Assert.Contains("at most 13", ex.Message);
    }
}

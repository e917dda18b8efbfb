using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Text;
using System.Text.Json;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static CoCa.MLNet.Tests.Shared.CaptionFixture;

namespace CoCa.MLNet.Training.Tests.Modules;

/// <summary>The whole CoCa in TorchSharp against open_clip's outputs for the fixtures' two tiny CoCas.</summary>
public sealed class CoCaModelParityTests(ITestOutputHelper output)
{
    [FixtureTheory]
    [InlineData("open_clip_coca_tiny")]
    [InlineData("open_clip_coca_caption")]
    public void Forward_MatchesOpenClipEmbeddingsAndCaptionTokens(string fixture)
    {
        var folder = Path.Combine(Fixtures.Root, fixture);
        using var model = Load(folder);
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        var pixels = Pixels(folder, model.Config);
        var (tokens, image, captionTokens) = model.Visual.Encode(pixels);
        var (text, _) = model.Text.forward(TextIds(folder));

        Check(tokens, Reference(folder, "ref_tokens.npy"), "tokens");
        Check(image, Reference(folder, "ref_image_embedding.npy"), "image embedding");
        Check(captionTokens, Reference(folder, "ref_caption_tokens.npy"), "caption tokens");
        Check(text, Reference(folder, "ref_text_embedding.npy"), "text embedding");
    }

    [FixtureFact]
    public void GreedyCaptions_EqualOpenClipsIds()
    {
        // open_clip's generate(generation_type="top_k", top_k=1): arg-max of the last position's logits, the end token
        // masked while fewer than 5 tokens, stop after the end token or at 30 tokens. Equal ids mean equal decoder logits
        // up to far below the decisions' margins (the fixture's decoder is sharpened).
        using var model = Load(Folder);
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File(Folder, "ref_captions.json")));
        var expected = doc.RootElement.GetProperty("greedy").EnumerateArray().Select(e => e.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        var (_, _, captionTokens) = model.Visual.Encode(Pixels(Folder, model.Config));
        // All six in one batch: positions are causal, so a row that has ended just keeps taking (ignored) tokens.
        int n = expected.Length;
        var rows = Enumerable.Range(0, n).Select(_ => new List<long> { ClipTokenizer.StartOfTextId }).ToArray();
        var done = new bool[n];
        var ids = torch.full(n, 1, (long)ClipTokenizer.StartOfTextId, dtype: ScalarType.Int64);
        for (int length = 1; length < 30 && !done.All(d => d); length++)
        {
            var last = model.CaptionLogits(captionTokens, ids)[.., -1].clone();
            if (length < 5) last[.., ClipTokenizer.EndOfTextId] = torch.tensor(float.NegativeInfinity);
            var next = last.argmax(1);
            var chosen = next.data<long>().ToArray();
            for (int i = 0; i < n; i++)
            {
                if (done[i]) continue;
                rows[i].Add(chosen[i]);
                done[i] = chosen[i] == ClipTokenizer.EndOfTextId;
            }
            ids = torch.cat([ids, next.unsqueeze(1)], 1);
        }
        for (int i = 0; i < n; i++)
        {
            output.WriteLine($"image {i}: {string.Join(" ", rows[i])}");
            Assert.Equal(expected[i], rows[i].ToArray());
        }
    }

    [FixtureFact]
    public void CaptionLogits_ArePerPositionCausal()
    {
        // Logits at position i must not depend on later ids (the decoder's causal self-attention and the text tower's
        // causal mask): change the last id and compare the earlier positions.
        using var model = Load(Folder);
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        var (_, _, captionTokens) = model.Visual.Encode(Pixels(Folder, model.Config));
        var ids = TextIds(Folder)[0..1, 0..6];
        var changed = ids.clone();
        changed[0, 5] = torch.tensor(1234L);
        var a = model.CaptionLogits(captionTokens[0..1], ids);
        var b = model.CaptionLogits(captionTokens[0..1], changed);
        Assert.True(a[.., 0..5].allclose(b[.., 0..5], rtol: 0, atol: 1e-5), "earlier positions changed with a later id");
        Assert.False(a[.., 5].allclose(b[.., 5]), "the changed position's logits did not change");
    }

    private void Check(Tensor actual, NpyArray<float> expected, string what)
    {
        Assert.Equal(expected.Shape, actual.shape);
        int rows = (int)expected.Shape[0];
        var values = Values(actual);
        output.WriteLine($"{what}: relative error {Fixtures.RelativeError(values, expected.Data):E3}");
        Fixtures.AssertRowsClose(values, expected.Data, rows, 1e-4, what);
    }
}

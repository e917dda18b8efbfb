using CoCa.MLNet.Captioning;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Tests.Captioning;

/// <summary>
/// The caption decoder's ONNX graphs in a configuration of their own (text heads ≠ decoder heads, small vocabulary, random
/// weights) against a float64 re-implementation of open_clip's CoCa.forward (text tower tokens → MultimodalTransformer):
/// logits of every position, whether computed at once, one token at a time with the cache, or prefill + steps, and with
/// two rows per image sharing the image's keys/values (beams).
/// </summary>
public sealed class CaptionDecoderReferenceTests
{
    private static readonly CoCaModelConfig Config = new()
    {
        Name = "coca_caption_test",
        EmbedDim = 24,
        Vision = new VisionConfig { ImageSize = 32, PatchSize = 16, Width = 32, Layers = 1, HeadWidth = 16, AttnPoolerQueries = 6, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = 12, VocabSize = 300, Width = 24, Heads = 3, Layers = 2 },
        Multimodal = new MultimodalConfig { ContextLength = 12, VocabSize = 300, Width = 24, Heads = 2, Layers = 2 },
    };

    private const int Tokens = 5, Rows = 2;
    private static readonly long[] Ids = [49 % 300, 7, 250, 13, 99, 299, 0, 42, 7, 7];     // [2, 5]

    private static readonly Lazy<StateDict> Weights = new(() => RandomCoCaCheckpoint.Create(Config, seed: 8, includeDecoder: true));

    private static readonly Lazy<CoCaCaptionDecoder> Decoder = new(() =>
    {
        var (image, step) = CaptionDecoderOnnx.CreateGraphs(Config, Weights.Value);
        return new CoCaCaptionDecoder(image.ToBytes(), step.ToBytes(), Config, new CoCa.MLNet.Runtime.OnnxExecutionOptions { IntraOpNumThreads = 1 });
    });

    private static float[] ImageTokens(int images)
    {
        var random = new Random(3);
        return Enumerable.Range(0, images * 5 * 24).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>open_clip in float64: logits [t, vocab] at every position of one row.</summary>
    private static double[] Reference(ReadOnlySpan<long> ids, ReadOnlySpan<float> image)
    {
        var sd = Weights.Value;
        float[] W(string name) => sd[name].Data;
        int t = ids.Length, w = 24, vocab = 300;
        var x = new double[t * w];
        var emb = W("text.token_embedding.weight");
        var pos = W("text.positional_embedding");
        for (int i = 0; i < t; i++)
            for (int j = 0; j < w; j++) x[i * w + j] = emb[ids[i] * w + j] + pos[i * w + j];
        var causal = new double[t * t];
        for (int i = 0; i < t; i++) for (int j = i + 1; j < t; j++) causal[i * t + j] = double.NegativeInfinity;
        for (int l = 0; l < 2; l++) x = ReferenceOps.ResidualBlock(x, t, w, 3, 4 * w, W, $"text.transformer.resblocks.{l}", causal);
        var img = image.ToArray().Select(v => (double)v).ToArray();
        for (int l = 0; l < 2; l++)
        {
            x = ReferenceOps.ResidualBlock(x, t, w, 2, 4 * w, W, $"text_decoder.resblocks.{l}", causal);
            x = ReferenceOps.CrossBlock(x, t, img, 5, w, 2, 4 * w, W, $"text_decoder.cross_attn.{l}");
        }
        x = ReferenceOps.LayerNorm(x, t, w, W("text_decoder.ln_final.weight"), W("text_decoder.ln_final.bias"));
        return ReferenceOps.MatMulRight(x, t, w, W("text_decoder.text_projection"), vocab);
    }

    private static void AssertClose(ReadOnlySpan<float> actual, double[] reference, int position, string what)
    {
        int vocab = 300;
        double num = 0, den = 0;
        for (int v = 0; v < vocab; v++)
        {
            double d = actual[v] - reference[position * vocab + v];
            num += d * d;
            den += reference[position * vocab + v] * reference[position * vocab + v];
        }
        double err = Math.Sqrt(num / den);
        Assert.True(err <= 1e-4, $"{what}, position {position}: relative error {err:E2}");
    }

    [Theory]
    [InlineData(new[] { 5 })]            // the whole prefix at once (open_clip's no-cache call)
    [InlineData(new[] { 1, 1, 1, 1, 1 })] // one token per step, the cache carrying the rest
    [InlineData(new[] { 3, 1, 1 })]       // prefill, then steps
    public void LogitsEqualTheFloat64Reference(int[] chunks)
    {
        foreach (var images in new[] { Rows, 1 })   // one image per row, or both rows of one image (beams)
        {
            var image = ImageTokens(images);
            var expected = Enumerable.Range(0, Rows).Select(r => Reference(Ids.AsSpan(r * Tokens, Tokens), image.AsSpan((images == Rows ? r : 0) * 120, 120))).ToArray();
            var decoder = Decoder.Value;
            using var cross = decoder.RunImageSide(image, images);
            IReadOnlyList<OrtValue> past = decoder.EmptyPast(Rows);
            IDisposable? owner = null;
            int done = 0;
            foreach (var n in chunks)
            {
                var ids = new long[Rows * n];
                for (int r = 0; r < Rows; r++) Array.Copy(Ids, r * Tokens + done, ids, r * n, n);
                var (logits, outputs) = decoder.RunStep(ids, Rows, n, past, cross);
                if (owner is null) foreach (var p in past) p.Dispose();
                owner?.Dispose();
                owner = outputs;
                past = outputs.Skip(1).ToList();
                done += n;
                Assert.Equal(new long[] { Rows, 3, done, 8 }, past[0].GetTensorTypeAndShape().Shape);
                for (int r = 0; r < Rows; r++)
                    AssertClose(logits.AsSpan(r * 300, 300), expected[r], done - 1, $"{images} image(s), chunks [{string.Join(",", chunks)}], row {r}");
            }
            owner?.Dispose();
        }
    }

    [Fact]
    public void CachedAndRecomputedDecodingAgree()
    {
        var image = ImageTokens(2);
        foreach (var decoding in new[] { CaptionDecoding.Greedy, CaptionDecoding.BeamSearch, CaptionDecoding.TopK })
        {
            var options = new CaptionGenerationOptions
            {
                Decoding = decoding, Beams = 3, MaxTokens = 8, MinTokens = 3, StartTokenId = 1, EndTokenId = 2, TopK = 5, Seed = 4, RepetitionPenalty = 1.3,
            };
            var cached = Decoder.Value.Generate(image, 2, options);
            var recomputed = Decoder.Value.Generate(image, 2, options with { UseCache = false });
            Assert.Equal(cached, recomputed);
            Assert.All(cached, ids => Assert.True(ids.Length is >= 3 and <= 8 && ids[0] == 1, $"{decoding}: [{string.Join(", ", ids)}]"));
        }
    }

    [Fact]
    public void BeamSearchBeyondItsMemory_DecodesFewerImagesAtOnce_WithTheSameIds_OrRefusesTheBeams()
    {
        var (image, step) = CaptionDecoderOnnx.CreateGraphs(Config, Weights.Value);
        using var decoder = new CoCaCaptionDecoder(image.ToBytes(), step.ToBytes(), Config, new CoCa.MLNet.Runtime.OnnxExecutionOptions { IntraOpNumThreads = 1 });
        var tokens = ImageTokens(5);
        var options = new CaptionGenerationOptions { Decoding = CaptionDecoding.BeamSearch, Beams = 3, MaxTokens = 8, MinTokens = 3, StartTokenId = 1, EndTokenId = 2 };
        var together = decoder.Generate(tokens, 5, options);
        long perImage = decoder.BeamSearchBytesPerImage(options);
        Assert.True(perImage > 3 * 8 * 300 * sizeof(float), $"{perImage} bytes for 3 beams of logits over 300 tokens and their caches");

        decoder.BeamSearchMemoryBudget = 2 * perImage;   // two images at a time: 2 + 2 + 1
        Assert.Equal(together, decoder.Generate(tokens, 5, options));

        decoder.BeamSearchMemoryBudget = perImage - 1;
        var refused = Assert.Throws<ArgumentException>(() => decoder.Generate(tokens, 5, options)).Message;
        Assert.Contains("Beam search with 3 beams of up to 8 tokens needs about", refused);
        Assert.Contains("use at most 2 beams", refused);
    }

    [Fact]
    public void ACheckpointWithoutTheDecoderOrWithUnequalWidthsIsRefused()
    {
        var noDecoder = RandomCoCaCheckpoint.Create(Config, seed: 8);
        var e = Assert.Throws<CheckpointException>(() => CaptionDecoderOnnx.CreateGraphs(Config, noDecoder));
        Assert.Contains("text_decoder", e.Message);

        var unequal = Config with { Text = Config.Text with { Width = 16, Heads = 2 } };
        var why = Assert.Throws<CoCaConfigException>(() => CaptionDecoderOnnx.CreateGraphs(unequal, Weights.Value));
        Assert.Contains("text width 16, multimodal width 24 and embed_dim 24", why.Message);
    }
}

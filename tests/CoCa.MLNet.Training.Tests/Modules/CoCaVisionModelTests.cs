using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Modules;

public sealed class CoCaVisionModelTests(ITestOutputHelper output)
{
    [FixtureFact]
    public void Forward_MatchesOpenClipTokensAndImageEmbedding()
    {
        using var model = CoCaVisionModel.FromStateDict(TinyCoCa.Config, TinyCoCa.StateDict);
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        var refTokens = Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy"));
        var refEmbedding = Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy"));

        float[] tokens, embedding;
        long[] tokenShape, embeddingShape;
        using (torch.inference_mode())
        using (var scope = NewDisposeScope())
        {
            var (t, e) = model.forward(torch.tensor(pixels.Data, pixels.Shape));
            tokenShape = t.shape;
            embeddingShape = e.shape;
            tokens = t.data<float>().ToArray();
            embedding = e.data<float>().ToArray();
        }

        Assert.Equal(refTokens.Shape, tokenShape);          // [6, 17, 64]
        Assert.Equal(refEmbedding.Shape, embeddingShape);   // [6, 48]
        int tokenRows = (int)(refTokens.Shape[0] * refTokens.Shape[1]);
        int imageRows = (int)refEmbedding.Shape[0];
        output.WriteLine($"tokens: max per-token relative error {MaxRowError(tokens, refTokens.Data, tokenRows):E3}");
        output.WriteLine($"image_embedding: max per-row relative error {MaxRowError(embedding, refEmbedding.Data, imageRows):E3}");
        Fixtures.AssertRowsClose(tokens, refTokens.Data, tokenRows, 1e-4, "tokens");
        Fixtures.AssertRowsClose(embedding, refEmbedding.Data, imageRows, 1e-4, "image_embedding");
    }

    [FixtureFact]
    public void Forward_ImagesAreIndependentOfTheirBatch()
    {
        // Batching must not mix images: image 3 alone equals image 3 inside the batch of 6.
        using var model = CoCaVisionModel.FromStateDict(TinyCoCa.Config, TinyCoCa.StateDict);
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        var batch = torch.tensor(pixels.Data, pixels.Shape);
        var (_, all) = model.forward(batch);
        var (_, single) = model.forward(batch[3..4]);
        var err = Fixtures.RelativeError(single.data<float>().ToArray(), all[3].data<float>().ToArray());
        Assert.True(err <= 1e-6, $"image 3 alone differs from image 3 in the batch by {err:E3}");
    }

    [FixtureFact]
    public void ToFloat64_ForwardUsesTheConvertedParameters()
    {
        // TorchSharp's to() re-binds Parameter fields by reflection; the trunk's fields live in the base class, so
        // check that forward sees the registry's new tensors (a stale field would ignore the edits below).
        using var model = CoCaVisionModel.FromStateDict(TinyCoCa.Config, TinyCoCa.StateDict);
        model.to(ScalarType.Float64);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(parameters.Values, p => Assert.Equal(ScalarType.Float64, p.dtype));
        var pixels = Npy.ReadFloat32(Fixtures.Tiny("ref_pixels.npy"));
        var refEmbedding = Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy"));
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        var input = torch.tensor(pixels.Data, pixels.Shape).to(ScalarType.Float64);

        var (tokens, embedding) = model.forward(input);
        Assert.Equal(ScalarType.Float64, embedding.dtype);
        var asFloat = embedding.to(ScalarType.Float32).data<float>().ToArray();
        Fixtures.AssertRowsClose(asFloat, refEmbedding.Data, (int)refEmbedding.Shape[0], 1e-4, "float64 image_embedding");

        // (Scaling, not shifting: ln_pre would cancel a constant shift.)
        parameters["positional_embedding"].mul_(2.0);
        var (tokensAfterPositionEdit, _) = model.forward(input);
        Assert.False(tokensAfterPositionEdit.allclose(tokens), "editing positional_embedding did not change the tokens");
        parameters["class_embedding"].mul_(-3.0);
        var (tokensAfterClassEdit, _) = model.forward(input);
        Assert.False(tokensAfterClassEdit.allclose(tokensAfterPositionEdit), "editing class_embedding did not change the tokens");
        parameters["proj"].zero_();
        var (_, zeroedEmbedding) = model.forward(input);
        Assert.Equal(0.0, zeroedEmbedding.abs().max().item<double>());
    }

    [Fact]
    public void Forward_RejectsPixelsOfTheWrongSize()
    {
        using var model = new CoCaVisionModel(TinyCoCa.Config);
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => model.forward(torch.zeros(1, 3, 32, 32)));
        Assert.Contains("[N, 3, 64, 64]", ex.Message);
        Assert.Contains("[1, 3, 32, 32]", ex.Message);
    }

    [Fact]
    public void Constructor_RejectsPoolerHeadsThatDoNotDivideEmbedDim()
    {
        var config = TinyCoCa.Config with { Vision = TinyCoCa.Config.Vision with { AttnPoolerHeads = 5 } };
        var ex = Assert.Throws<ArgumentException>(() => new CoCaVisionModel(config));
        Assert.Contains("attn_pooler_heads 5", ex.Message);
    }

    private static double MaxRowError(float[] actual, float[] expected, int rows)
    {
        int n = expected.Length / rows;
        double max = 0;
        for (int r = 0; r < rows; r++)
            max = Math.Max(max, Fixtures.RelativeError(actual.AsSpan(r * n, n), expected.AsSpan(r * n, n)));
        return max;
    }
}

using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Tests.Checkpoints;

public sealed class CheckpointValidatorTests
{
    /// <summary>A small CoCa in open_clip's config format (pooler kdim ≠ embed_dim, like the real models).</summary>
    internal static CoCaModelConfig Tiny { get; } = CoCaConfigs.Parse("""
        {"embed_dim": 24,
         "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16,
                        "attentional_pool": true, "attn_pooler_queries": 5, "attn_pooler_heads": 4},
         "text_cfg": {"context_length": 6, "vocab_size": 50, "width": 16, "heads": 2, "layers": 2, "embed_cls": true},
         "multimodal_cfg": {"context_length": 6, "vocab_size": 50, "width": 16, "heads": 2, "layers": 1}}
        """, "tiny-test");

    private static StateDict Without(StateDict sd, string key) => new(sd.Values.Where(t => t.Name != key), sd.Source);

    private static StateDict With(StateDict sd, params CheckpointTensor[] extra) => new(sd.Values.Concat(extra), sd.Source);

    private static CheckpointTensor Zeros(string name, params long[] shape) =>
        new(name, shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);

    [Fact]
    public void MatchingCheckpointPasses()
    {
        var sd = RandomCoCaCheckpoint.Create(Tiny, seed: 1);
        CheckpointValidator.Validate(Tiny, sd);
    }

    [Theory]
    [InlineData("visual.transformer.resblocks.1.mlp.c_fc.weight", float.NaN, "NaN")]
    [InlineData("visual.proj", float.PositiveInfinity, "+Inf")]
    [InlineData("text.token_embedding.weight", float.NegativeInfinity, "-Inf")]
    [InlineData("logit_scale", float.NaN, "NaN")]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(string name, float value, string what)
    {
        var sd = RandomCoCaCheckpoint.Create(Tiny, seed: 1);
        sd[name].Data[sd[name].Data.Length - 1] = value;

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.Validate(Tiny, sd));

        Assert.Contains($"tensor '{name}'", e.Message);
        Assert.Contains($"holds {what} at flat index {sd[name].Data.Length - 1}", e.Message);
    }

    [Fact]
    public void ConvertRefusesANaNCheckpoint_WritingNoModel()
    {
        var sd = RandomCoCaCheckpoint.Create(Tiny, seed: 1);
        sd["visual.conv1.weight"].Data[7] = float.NaN;
        var dir = Path.Combine(Path.GetTempPath(), "coca-nan-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<CheckpointException>(() => CoCa.MLNet.Conversion.CoCaConverter.Convert(sd, Tiny, dir));
        Assert.Contains("'visual.conv1.weight'", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, CoCa.MLNet.Conversion.ConvertedModel.VisionFile)));
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    [Fact]
    public void MissingKeyIsNamedWithItsExpectedShape()
    {
        var sd = Without(RandomCoCaCheckpoint.Create(Tiny, seed: 1), "visual.attn_pool.ln_k.bias");

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateVision(Tiny, sd));

        Assert.Contains("'visual.attn_pool.ln_k.bias'", e.Message);
        Assert.Contains("[32]", e.Message);
        Assert.Contains("'tiny-test'", e.Message);
    }

    [Fact]
    public void ExtraResblocksAreDetected()
    {
        var sd = With(RandomCoCaCheckpoint.Create(Tiny, seed: 1), Zeros("visual.transformer.resblocks.2.ln_1.weight", 32));

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateVision(Tiny, sd));

        Assert.Contains("3 visual.transformer.resblocks blocks", e.Message);
        Assert.Contains("2 layers", e.Message);
    }

    [Fact]
    public void FewerResblocksAreDetected()
    {
        var sd = RandomCoCaCheckpoint.Create(Tiny, seed: 1);
        var oneLayer = new StateDict(sd.Values.Where(t => !t.Name.StartsWith("text.transformer.resblocks.1.", StringComparison.Ordinal)), "x.safetensors");

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateText(Tiny, oneLayer));

        Assert.Contains("1 text.transformer.resblocks blocks", e.Message);
        Assert.Contains("2 layers", e.Message);
    }

    [Fact]
    public void UnexpectedTowerKeyIsNamed()
    {
        var sd = With(RandomCoCaCheckpoint.Create(Tiny, seed: 1), Zeros("visual.attn_pool_contrastive.query", 1, 24));

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateVision(Tiny, sd));

        Assert.Contains("'visual.attn_pool_contrastive.query'", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesKeyActualAndExpected()
    {
        var other = Tiny with { Text = Tiny.Text with { Width = 32, Heads = 4 } };
        var sd = RandomCoCaCheckpoint.Create(other, seed: 1);

        CheckpointValidator.ValidateVision(Tiny, sd); // the vision tower still agrees
        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateText(Tiny, sd));

        Assert.Contains("'text.token_embedding.weight'", e.Message);
        Assert.Contains("[50, 32]", e.Message);
        Assert.Contains("[50, 16]", e.Message);
    }

    [Fact]
    public void CheckpointWithoutTheTowerIsNotCoCa()
    {
        var sd = new StateDict([Zeros("model.embed", 3)], "clip.safetensors");

        var e = Assert.Throws<CheckpointException>(() => CheckpointValidator.ValidateVision(Tiny, sd));

        Assert.Contains("no visual.* tensors", e.Message);
        Assert.Contains("clip.safetensors", e.Message);
    }

    [Fact]
    public void PackedPoolerProjectionIsExpectedWhenEmbedDimEqualsWidth()
    {
        // torch's MultiheadAttention packs q/k/v into in_proj_weight when kdim == vdim == embed_dim.
        var packed = Tiny with { EmbedDim = 32 };
        var names = RandomCoCaCheckpoint.Shapes(packed).ToDictionary(s => s.Name, s => s.ShapeText);

        Assert.Equal("[96, 32]", names["visual.attn_pool.attn.in_proj_weight"]);
        Assert.DoesNotContain("visual.attn_pool.attn.k_proj_weight", names.Keys);
        Assert.DoesNotContain("visual.attn_pool.attn.in_proj_weight", RandomCoCaCheckpoint.Shapes(Tiny).Select(s => s.Name));
        CheckpointValidator.Validate(packed, RandomCoCaCheckpoint.Create(packed, seed: 2));
    }
}

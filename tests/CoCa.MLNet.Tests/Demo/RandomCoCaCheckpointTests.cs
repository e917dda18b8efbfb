using System.Text.RegularExpressions;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Checkpoints;

namespace CoCa.MLNet.Tests.Demo;

public sealed class RandomCoCaCheckpointTests
{
    private static long Count(IEnumerable<TensorSpec> specs, string prefix) =>
        specs.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(s => s.ElementCount);

    [Theory]
    // Parameter counts from open_clip's state_dict (and docs/model_profile.csv), per the shared notes §1.1.
    [InlineData("coca_ViT-B-32", 89_164_032L, 163, 63_428_608L)]
    [InlineData("coca_ViT-L-14", 306_724_864L, 307, 123_651_072L)]
    public void BuiltInConfigsGiveOpenClipsParameterCounts(string name, long visualParams, int visualKeys, long textParams)
    {
        var specs = RandomCoCaCheckpoint.Shapes(CoCaConfigs.Get(name));

        Assert.Equal(visualParams, Count(specs, "visual."));
        Assert.Equal(visualKeys, specs.Count(s => s.Name.StartsWith("visual.", StringComparison.Ordinal)));
        Assert.Equal(textParams, Count(specs, "text."));
        Assert.Equal(1, Count(specs, "logit_scale"));
    }

    [FixtureTheory]
    [InlineData("coca_ViT-B-32")]
    [InlineData("coca_ViT-L-14")]
    public void ShapesEqualOpenClipsStateDictListing(string name)
    {
        var listing = Path.Combine(Fixtures.Root, "..", "notes", $"openclip-{name}-state-dict.txt");
        var expected = File.ReadAllLines(listing)
            .Select(line => Regex.Match(line, @"^(\S+) \[([0-9, ]*)\] float32$"))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => "[" + m.Groups[2].Value + "]");

        // Every key, the captioning decoder's text_decoder.* included.
        var actual = RandomCoCaCheckpoint.Shapes(CoCaConfigs.Get(name), includeDecoder: true).ToDictionary(s => s.Name, s => s.ShapeText);

        Assert.True(expected.Count > 300, $"listing parsed to only {expected.Count} keys");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.Equal((key, shape), (key, actual[key]));
    }

    [Fact]
    public void CreateIsDeterministicAndSeedDependent()
    {
        var cfg = CheckpointValidatorTests.Tiny;
        var a = RandomCoCaCheckpoint.Create(cfg, seed: 5);
        var b = RandomCoCaCheckpoint.Create(cfg, seed: 5);
        var c = RandomCoCaCheckpoint.Create(cfg, seed: 6);

        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, t) in a) Assert.True(t.Data.AsSpan().SequenceEqual(b[name].Data), name);
        Assert.NotEqual(a["visual.conv1.weight"].Data, c["visual.conv1.weight"].Data);
    }

    [Fact]
    public void ValuesArePinnedAcrossPlatformsAndVersions()
    {
        // Integer PRNG + exact arithmetic: these bits must never change (other tests and tools rely on the weights).
        var sd = RandomCoCaCheckpoint.Create(CheckpointValidatorTests.Tiny, seed: 0);

        Assert.Equal(PinnedConv1Bits, sd["visual.conv1.weight"].Data[..4].Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(PinnedQueryBits, sd["visual.attn_pool.query"].Data[..3].Select(BitConverter.SingleToUInt32Bits));
    }

    // Float bit patterns of the first values (conv1 ≈ -0.0509, 0.0379, 0.0909, 0.0334; query ≈ -1.149, 0.863, 1.158).
    private static readonly uint[] PinnedConv1Bits = [0xbd505e77, 0x3d1b690a, 0x3dba365c, 0x3d0901c1];
    private static readonly uint[] PinnedQueryBits = [0xbf930fc5, 0x3f5ceac6, 0x3f9429f5];

    [Fact]
    public void VisionValuesDoNotDependOnIncludingText()
    {
        var cfg = CheckpointValidatorTests.Tiny;
        var full = RandomCoCaCheckpoint.Create(cfg, seed: 3);
        var visionOnly = RandomCoCaCheckpoint.Create(cfg, seed: 3, includeText: false);

        Assert.DoesNotContain(visionOnly.Keys, k => k.StartsWith("text.", StringComparison.Ordinal));
        Assert.Contains("logit_scale", visionOnly.Keys);
        foreach (var (name, t) in visionOnly) Assert.Equal(full[name].Data, t.Data);
    }

    [Fact]
    public void InitialisationScalesFollowOpenClip()
    {
        var cfg = CoCaConfigs.Get("coca_ViT-B-32") with { Vision = CoCaConfigs.Get("coca_ViT-B-32").Vision with { Layers = 1 } };
        var sd = RandomCoCaCheckpoint.Create(cfg, seed: 11, includeText: false);

        static (double Mean, double Std) Stats(float[] x)
        {
            double mean = x.Average(v => (double)v);
            return (mean, Math.Sqrt(x.Average(v => (v - mean) * (v - mean))));
        }

        var conv = Stats(sd["visual.conv1.weight"].Data);
        Assert.InRange(conv.Mean, -0.001, 0.001);
        Assert.InRange(conv.Std, 0.98 / Math.Sqrt(3 * 32 * 32), 1.02 / Math.Sqrt(3 * 32 * 32));
        var pos = Stats(sd["visual.positional_embedding"].Data);
        Assert.InRange(pos.Std, 0.97 / Math.Sqrt(768), 1.03 / Math.Sqrt(768));
        var query = Stats(sd["visual.attn_pool.query"].Data);
        Assert.InRange(query.Std, 0.98, 1.02);
        var lnWeight = Stats(sd["visual.ln_post.weight"].Data);
        Assert.InRange(lnWeight.Mean, 0.99, 1.01);
        Assert.InRange(lnWeight.Std, 0.03, 0.07);
        var bias = Stats(sd["visual.transformer.resblocks.0.attn.in_proj_bias"].Data);
        Assert.InRange(bias.Std, 0.015, 0.025);
        Assert.Equal(MathF.Log(1 / 0.07f), sd["logit_scale"].Data[0], 5);
    }
}

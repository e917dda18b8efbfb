using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Modules;

public sealed class CoCaVisionModelLoadingTests
{
    [FixtureFact]
    public void ParameterNames_AreOpenClipsVisualStateDictNames()
    {
        using var model = new CoCaVisionModel(TinyCoCa.Config);
        var names = model.named_parameters().Select(p => CoCaVisionModel.StateDictPrefix + p.name).Order(StringComparer.Ordinal);
        var keys = TinyCoCa.StateDict.KeysWithPrefix(CoCaVisionModel.StateDictPrefix).Order(StringComparer.Ordinal);
        Assert.Equal(keys, names);
    }

    [FixtureFact]
    public void FromStateDict_CopiesEveryTensor()
    {
        using var model = CoCaVisionModel.FromStateDict(TinyCoCa.Config, TinyCoCa.StateDict);
        using var scope = NewDisposeScope();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var expected = TinyCoCa.StateDict[CoCaVisionModel.StateDictPrefix + name].Data;
            Assert.True(expected.AsSpan().SequenceEqual(parameter.data<float>().ToArray()), $"parameter {name} differs from the checkpoint");
        }
    }

    [FixtureFact]
    public void FromStateDict_MissingKey_NamesKeyAndExpectedShape()
    {
        const string missing = "visual.attn_pool.ln_k.weight";
        var sd = TinyCoCa.Modified(ts => ts.Where(t => t.Name != missing));
        var ex = Assert.Throws<CheckpointException>(() => CoCaVisionModel.FromStateDict(TinyCoCa.Config, sd));
        Assert.Contains($"'{missing}'", ex.Message);
        Assert.Contains("[64]", ex.Message);
    }

    [FixtureFact]
    public void FromStateDict_MisshapedTensor_NamesKeyAndBothShapes()
    {
        const string key = "visual.attn_pool.attn.k_proj_weight";
        var sd = TinyCoCa.Modified(ts => ts.Select(t => t.Name == key ? new CheckpointTensor(key, [64, 48], t.Data) : t));
        var ex = Assert.Throws<CheckpointException>(() => CoCaVisionModel.FromStateDict(TinyCoCa.Config, sd));
        Assert.Contains($"'{key}'", ex.Message);
        Assert.Contains("[64, 48]", ex.Message);
        Assert.Contains("expected [48, 64]", ex.Message);
    }

    [FixtureFact]
    public void FromStateDict_ConfigWithFewerLayers_ReportsUnusedCheckpointTensors()
    {
        var config = TinyCoCa.Config with { Vision = TinyCoCa.Config.Vision with { Layers = 1 } };
        var ex = Assert.Throws<CheckpointException>(() => CoCaVisionModel.FromStateDict(config, TinyCoCa.StateDict));
        Assert.Contains("visual.transformer.resblocks.1.", ex.Message);
    }

    [FixtureFact]
    public void FromStateDict_ConfigWithMoreLayers_NamesTheMissingBlock()
    {
        var config = TinyCoCa.Config with { Vision = TinyCoCa.Config.Vision with { Layers = 3 } };
        var ex = Assert.Throws<CheckpointException>(() => CoCaVisionModel.FromStateDict(config, TinyCoCa.StateDict));
        Assert.Contains("'visual.transformer.resblocks.2.", ex.Message);
    }
}

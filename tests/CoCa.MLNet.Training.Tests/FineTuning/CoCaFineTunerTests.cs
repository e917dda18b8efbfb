using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Training.FineTuning;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests.FineTuning;

public sealed class CoCaFineTunerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>12 captioned pictures and a config-only tiny CoCa (train from scratch) in the test's folder.</summary>
    private (IReadOnlyList<ImageCaptionPair> Pairs, string Scratch) Data()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        return (pairs, TinyPairs.ConfigOnlyCheckpoint(_dir));
    }

    [FixtureFact]
    public void Train_ReportsProgress_EveryStepAndEpoch()
    {
        var (pairs, scratch) = Data();
        var reports = new List<CoCaFineTuneProgress>();
        string a = Path.Combine(_dir, "a");

        var result = CoCaFineTuner.Train(TinyPairs.Options(scratch, a, progress: p => { reports.Add(p); output.WriteLine(p.ToString()); }), pairs, validation: pairs);
        Assert.Equal(6, result.Steps); // 12 pairs / batch 4 = 3 steps per epoch
        Assert.Equal(8, reports.Count); // 6 step reports + 2 epoch reports
        Assert.All(reports, r => Assert.True(double.IsFinite(r.TotalLoss) && r.ExamplesPerSecond > 0, r.ToString()));
        var last = reports[^1];
        Assert.True(last.EndOfEpoch);
        Assert.Equal(12, last.Validation!.Pairs);
    }

    [FixtureFact]
    public void Train_CheckpointsEveryEpoch_AndSavesTheModelInTheHubLayout()
    {
        var (pairs, scratch) = Data();
        string a = Path.Combine(_dir, "a");

        CoCaFineTuner.Train(TinyPairs.Options(scratch, a), pairs, validation: pairs);
        Assert.True(System.IO.File.Exists(Path.Combine(a, "checkpoints", "epoch_1", "open_clip_model.safetensors")));
        Assert.True(System.IO.File.Exists(Path.Combine(a, "checkpoints", "epoch_2", "optimizer.safetensors")));
        Assert.True(System.IO.File.Exists(Path.Combine(a, "open_clip_config.json")));
        Assert.True(System.IO.File.Exists(Path.Combine(a, "bpe_simple_vocab_16e6.txt.gz")));
        var logitScale = Weights(a)["logit_scale"].Data[0];
        Assert.InRange(logitScale, 0f, (float)Math.Log(100));
    }

    [FixtureFact]
    public void Train_IsSeeded_SameSeedAndDataGiveTheSameWeights()
    {
        var (pairs, scratch) = Data();
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");

        CoCaFineTuner.Train(TinyPairs.Options(scratch, a), pairs, validation: pairs);
        // Same seed, same data: the same weights, bit for bit.
        CoCaFineTuner.Train(TinyPairs.Options(scratch, b), pairs);
        Assert.True(SameWeights(a, b), "two runs with the same seed differ");
    }

    [FixtureFact]
    public void Train_InterruptedAfterAnEpoch_ResumesToTheUninterruptedRunsWeights()
    {
        var (pairs, scratch) = Data();
        string a = Path.Combine(_dir, "a"), c = Path.Combine(_dir, "c");
        CoCaFineTuner.Train(TinyPairs.Options(scratch, a), pairs, validation: pairs);

        // Interrupted after epoch 1, then resumed: the same weights as the uninterrupted run.
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => CoCaFineTuner.Train(
            TinyPairs.Options(scratch, c, cancellation: cancel.Token, progress: p => { if (p.EndOfEpoch) cancel.Cancel(); }), pairs));
        Assert.False(System.IO.File.Exists(Path.Combine(c, "open_clip_model.safetensors")));
        var resumed = new List<CoCaFineTuneProgress>();
        CoCaFineTuner.Train(TinyPairs.Options(scratch, c, resume: true, progress: resumed.Add), pairs);
        Assert.Equal(2, resumed[0].Epoch);
        Assert.True(SameWeights(a, c), "the resumed run differs from the uninterrupted one");
    }

    [FixtureFact]
    public void Resume_WithOtherData_IsRefused()
    {
        var (pairs, scratch) = Data();
        string c = Path.Combine(_dir, "c");
        CoCaFineTuner.Train(TinyPairs.Options(scratch, c), pairs);

        // Resuming with other data must not silently continue a different run.
        var ex = Assert.Throws<InvalidOperationException>(() => CoCaFineTuner.Train(TinyPairs.Options(scratch, c, resume: true), pairs.Take(8).ToList()));
        Assert.Contains("Cannot resume", ex.Message);
        Assert.Contains("12 pairs", ex.Message);
    }

    [FixtureFact]
    public void FreezeVision_LeavesTheImageTowerUnchanged_AndTheLossFalls()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var epochs = new List<CoCaFineTuneProgress>();
        var start = Path.Combine(_dir, "start");
        // The starting weights: the trainer initialises a config-only checkpoint with its seed, as this does.
        using (var initial = Training.Checkpoints.CoCaCheckpointFolder.Load(scratch, seed: 7))
            Training.Checkpoints.CoCaCheckpointFolder.Save(initial, start);
        var outDir = Path.Combine(_dir, "frozen");
        CoCaFineTuner.Train(TinyPairs.Options(scratch, outDir, freezeVision: true, epochs: 4, progress: p => { if (p.EndOfEpoch) epochs.Add(p); }), pairs);
        var before = Weights(start);
        var after = Weights(outDir);
        foreach (var key in before.Keys)
        {
            bool same = before[key].Data.AsSpan().SequenceEqual(after[key].Data);
            if (key.StartsWith("visual.", StringComparison.Ordinal)) Assert.True(same, $"{key} changed although the image tower is frozen");
        }
        Assert.False(before["text.token_embedding.weight"].Data.AsSpan().SequenceEqual(after["text.token_embedding.weight"].Data));
        Assert.False(before["text_decoder.text_projection"].Data.AsSpan().SequenceEqual(after["text_decoder.text_projection"].Data));
        output.WriteLine(string.Join("\n", epochs));
        Assert.True(epochs[^1].TotalLoss < epochs[0].TotalLoss, $"loss did not fall: {epochs[0].TotalLoss} → {epochs[^1].TotalLoss}");
    }

    [Fact]
    public void ParameterGroups_FollowOpenClip()
    {
        using var model = new Training.Modules.CoCaModel(TinyPairs.Config);
        var named = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var groups = Training.Optimization.OpenClipWeightDecay.Groups(named, 0.2).ToList();
        var noDecay = groups.Single(g => g.WeightDecay == 0).Names;
        var decay = groups.Single(g => g.WeightDecay == 0.2).Names;
        Assert.Equal(named.Count, noDecay.Count + decay.Count);
        Assert.Contains("logit_scale", noDecay);
        Assert.Contains("visual.class_embedding", noDecay);
        Assert.Contains("text.cls_emb", noDecay);
        Assert.Contains("text.ln_final.weight", noDecay);
        Assert.Contains("visual.transformer.resblocks.0.attn.in_proj_bias", noDecay);
        Assert.Contains("visual.conv1.weight", decay);
        Assert.Contains("text_decoder.text_projection", decay);
        Assert.Contains("visual.attn_pool.query", decay);
        Assert.Contains("text.token_embedding.weight", decay);
    }

    private static StateDict Weights(string folder) => SafetensorsReader.Read(Path.Combine(folder, "open_clip_model.safetensors"));

    private static bool SameWeights(string a, string b)
    {
        var wa = Weights(a);
        var wb = Weights(b);
        return wa.Keys.All(k => wa[k].Data.AsSpan().SequenceEqual(wb[k].Data));
    }
}

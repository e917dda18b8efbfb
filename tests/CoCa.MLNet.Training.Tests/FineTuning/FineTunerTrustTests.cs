using System.Security.Cryptography;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Optimization;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests.FineTuning;

/// <summary>
/// The fine-tuner never turns a mistake into a result: divergence stops it before anything non-finite is saved, the
/// defaults fit the start (from scratch or from weights), and a killed save's leftovers go.
/// </summary>
public sealed class FineTunerTrustTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetune-trust-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void Divergence_StopsAtTheFirstNonFiniteStep_AndKeepsTheLastGoodCheckpointUntouched()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        CoCaFineTuner.Train(TinyPairs.Options(scratch, outDir, epochs: 1), pairs);   // a good first epoch (3 steps)
        var epoch1 = Path.Combine(outDir, "checkpoints", "epoch_1");
        var before = FolderDigest(outDir);

        // Then the learning rate of a typo: the run goes on from epoch 1 and diverges in epoch 2.
        var reports = new List<CoCaFineTuneProgress>();
        var e = Assert.Throws<TrainingDivergedException>(() => CoCaFineTuner.Train(
            TinyPairs.Options(scratch, outDir, resume: true, epochs: 3, progress: reports.Add, learningRate: 1e9), pairs));
        output.WriteLine(e.Message);
        foreach (var r in reports) output.WriteLine(r.ToString());

        Assert.Equal(2, e.Epoch);
        Assert.InRange(e.Step, 4, 6);
        Assert.True(!double.IsFinite(e.Loss) || e.GradientNorm is { } g && !double.IsFinite(g), "stopped by the weights check, not at the step that diverged");
        Assert.Equal(epoch1, e.LastGoodCheckpoint);
        Assert.Contains("learning rate is likely too high", e.Message);
        Assert.Contains($"epoch 2, step {e.Step}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // Every step reported before it was finite: the first non-finite one stopped the run.
        Assert.All(reports, r => Assert.True(double.IsFinite(r.TotalLoss), r.ToString()));
        Assert.Equal(e.Step - 1, reports.Count == 0 ? 3 : reports[^1].Step);
        // Nothing was written: epoch 1 and the model of the first run are byte for byte what they were, no epoch 2.
        Assert.Equal(before, FolderDigest(outDir));
    }

    [CaptionFixtureFact]
    public void AnUpdateThatLeavesFiniteWeightsButANonFiniteLoss_IsDivergence_NotASavedModel()
    {
        // The audit's case: the caption fixture, its six pairs in one batch, lr 1e6. The one step's loss and gradients are
        // finite and so are the weights it makes, but they compute NaN: that run once "succeeded" and saved them.
        var csv = Path.Combine(_dir, "pairs.csv");
        var captions = File.ReadAllLines(CaptionFixture.File("captions.txt"));
        var images = CaptionFixture.ImagePaths();
        File.WriteAllLines(csv, ["image,caption", .. images.Select((image, i) => $"{image},\"{captions[i]}\"")]);
        var options = TinyPairs.Options(CaptionFixture.Folder, Path.Combine(_dir, "out"), epochs: 1, learningRate: 1e6, warmupFraction: 0, batchSize: images.Length);

        var e = Assert.Throws<TrainingDivergedException>(() => CoCaFineTuner.Train(options, ImageCaptionPairs.Read(csv)));
        output.WriteLine(e.Message);
        Assert.Equal(1, e.Epoch);
        Assert.Equal(1, e.Step);
        Assert.False(double.IsFinite(e.Loss));
        Assert.Contains("the weights it made compute a loss of NaN", e.Message);
        Assert.Contains("nothing was saved", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "out"), "*", SearchOption.AllDirectories));
    }

    [FixtureFact]
    public void FromScratch_UsesOpenClipsTrainingDefaults_FromWeights_TheFineTuningOnes_AndSaysWhich()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var weights = Path.Combine(_dir, "weights");
        using (var initial = CoCaCheckpointFolder.Load(scratch, seed: 7))
            CoCaCheckpointFolder.Save(initial, weights);

        (CoCaFineTuneResult Result, List<string> Log, List<CoCaFineTuneProgress> Reports) Run(string checkpoint, string name)
        {
            var log = new List<string>();
            var reports = new List<CoCaFineTuneProgress>();
            var result = CoCaFineTuner.Train(TinyPairs.Options(checkpoint, Path.Combine(_dir, name), epochs: 1, progress: reports.Add,
                learningRate: null, warmupFraction: null, log: log.Add), pairs);
            foreach (var line in log) output.WriteLine(line);
            return (result, log, reports);
        }

        var fromScratch = Run(scratch, "from-scratch");
        Assert.Equal(CoCaFineTuneOptions.FromScratchLearningRate, fromScratch.Result.LearningRate);
        // 3 steps: a tenth of the run is no warmup at all, so the first step already runs at the peak.
        Assert.Equal(5e-4, fromScratch.Reports[0].LearningRate, 12);
        Assert.Contains(fromScratch.Log, l => l.StartsWith("Training from scratch", StringComparison.Ordinal)
            && l.Contains("learning rate 0.0005 (open_clip's training defaults)") && l.Contains("warmup 0 of 3 steps"));

        var fromWeights = Run(weights, "from-weights");
        Assert.Equal(CoCaFineTuneOptions.FineTuningLearningRate, fromWeights.Result.LearningRate);
        Assert.Equal(1e-5, fromWeights.Reports[0].LearningRate, 12);
        Assert.Contains(fromWeights.Log, l => l.StartsWith("Fine-tuning the weights in", StringComparison.Ordinal)
            && l.Contains("learning rate 1E-05 (the fine-tuning defaults)"));
    }

    [Fact]
    public void FromScratchWarmup_IsOpenClipsTenThousandSteps_AtMostATenthOfTheRun()
    {
        var options = new CoCaFineTuneOptions { Checkpoint = "c", VocabularyPath = "v", OutputDirectory = "o" };
        var tenth = new CoCaFineTuneOptions { Checkpoint = "c", VocabularyPath = "v", OutputDirectory = "o", WarmupFraction = 0.1 };
        Assert.Equal(66, FineTuneSchedulePlan.Create(options, fromScratch: true, totalSteps: 660, resumed: null).WarmupSteps);
        Assert.Equal(10_000, FineTuneSchedulePlan.Create(options, fromScratch: true, totalSteps: 400_000, resumed: null).WarmupSteps);
        Assert.Equal(33, FineTuneSchedulePlan.Create(options, fromScratch: false, totalSteps: 660, resumed: null).WarmupSteps);
        Assert.Equal(66, FineTuneSchedulePlan.Create(tenth, fromScratch: false, totalSteps: 660, resumed: null).WarmupSteps);
    }

    [FixtureFact]
    public void AKilledSavesTemporaryFolder_IsRemovedByTheNextRun_UnlessARunStillHoldsTheFolder()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        CoCaFineTuner.Train(TinyPairs.Options(scratch, outDir, epochs: 1), pairs);
        // What a run killed while saving epoch 2 leaves: a half-written temporary checkpoint folder.
        var killed = Path.Combine(outDir, "checkpoints", ".epoch_2.0123456789abcdef0123456789abcdef.tmp");
        Directory.CreateDirectory(killed);
        File.WriteAllBytes(Path.Combine(killed, "open_clip_model.safetensors"), new byte[100]);

        // A live run holds the folder (its lock): another run neither deletes its save in progress nor starts.
        using (File.Open(Path.Combine(outDir, FineTuneOutputFolder.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var busy = Assert.Throws<IOException>(() => CoCaFineTuner.Train(TinyPairs.Options(scratch, outDir, resume: true, epochs: 2), pairs));
            Assert.Contains("in use by another fine-tuning run", busy.Message);
            Assert.True(Directory.Exists(killed));
        }

        var log = new List<string>();
        CoCaFineTuner.Train(TinyPairs.Options(scratch, outDir, resume: true, epochs: 2, log: log.Add), pairs);
        Assert.False(Directory.Exists(killed));
        Assert.Contains(log, l => l.Contains(killed) && l.Contains("interrupted"));
        Assert.Equal(["epoch_1", "epoch_2"], Directory.GetDirectories(Path.Combine(outDir, "checkpoints")).Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(outDir, FineTuneOutputFolder.LockFileName)), "the lock file outlived the run");
    }

    /// <summary>SHA-256 of every file under <paramref name="folder"/> by relative path.</summary>
    private static string FolderDigest(string folder) => string.Join("\n",
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(folder, f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));
}

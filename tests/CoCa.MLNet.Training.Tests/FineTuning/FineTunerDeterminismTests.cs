namespace CoCa.MLNet.Training.Tests.FineTuning;

/// <summary>
/// Same seed, data and settings give the same weights, also across processes (a per-process randomized hash in the
/// shuffling once made each run train on a different order).
/// </summary>
public sealed class FineTunerDeterminismTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetune-determinism-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void TwoProcesses_SameSeed_WriteIdenticalWeights()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 6);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var weights = new List<byte[]>();
        foreach (var run in new[] { "a", "b" })
        {
            var outDir = Path.Combine(_dir, run);
            var r = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
                "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--seed", "5");
            Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
            weights.Add(File.ReadAllBytes(Path.Combine(outDir, "open_clip_model.safetensors")));
        }
        Assert.True(weights[0].AsSpan().SequenceEqual(weights[1]), "two runs with the same seed wrote different weights");
    }
}

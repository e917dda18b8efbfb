using CoCa.MLNet.Training;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary><c>coca finetune --precision bf16 --checkpoint-activations</c> as a user runs it.</summary>
public sealed class FinetunePrecisionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetune-precision-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void Bf16WithCheckpointing_TrainsAndWritesFloat32Weights()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var outDir = Path.Combine(_dir, "out");
        var run = CliProcess.Run("finetune", "--checkpoint", scratch, "--data", csv, "--out", outDir, "--vocab", Fixtures.ClipBpe,
            "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--precision", "bf16", "--checkpoint-activations", "--progress-every", "1");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        Assert.Contains("epoch 1/1 step 2/2", run.StdOut);
        // On a CPU without bfloat16 the one line says so (and training is fp32); with it, nothing is said.
        bool supported = BFloat16Support.IsSupported(TorchSharp.torch.CPU);
        var warnings = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (supported) Assert.Empty(warnings);
        else Assert.Contains("training in fp32", Assert.Single(warnings), StringComparison.Ordinal);
        Assert.All(SafetensorsHeader.SafetensorsDtypes(Path.Combine(outDir, "open_clip_model.safetensors")), d => Assert.Equal("F32", d.Value));

        var convert = CliProcess.Run("convert", outDir, "--out", Path.Combine(_dir, "converted"));
        Assert.True(convert.ExitCode == 0, convert.StdErr + convert.StdOut);
    }

    [Fact]
    public void UnknownPrecision_IsAUsageError()
    {
        var run = CliProcess.Run("finetune", "--checkpoint", _dir, "--data", Path.Combine(_dir, "pairs.csv"), "--out", Path.Combine(_dir, "o"), "--precision", "fp16");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("fp16", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("bf16", run.StdErr, StringComparison.Ordinal);
    }
}

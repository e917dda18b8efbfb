using System.Diagnostics;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;
using static TorchSharp.torch;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Training pairs/s and peak RSS of one CoCa training step (forward, CoCa loss, backward, AdamW with open_clip's groups,
/// logit_scale clamp) on random weights and random inputs (no image decoding), CPU.
/// Options: --model coca_ViT-B-32 | tiny (the 32² demo-size CoCa), --batch 32, --steps 3 (after one warm-up step).
/// </summary>
internal static class FineTuneBenchmark
{
    public static int Run(string[] args)
    {
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        int batch = IntArg(args, "--batch", 32);
        int steps = IntArg(args, "--steps", 3);
        var config = name == "tiny" ? TinyCoCa.Config : CoCaConfigs.Get(name);
        Console.WriteLine($"machine: {MachineInfo.Describe()}, libtorch threads {torch.get_num_threads()}");
        torch.manual_seed(0);
        using var model = new CoCaModel(config);
        CoCaInitializer.Initialize(model, 0);
        model.train();
        long parameters = model.parameters().Sum(p => p.numel());
        var named = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = new AdamWOptimizer(CoCaFineTuner.ParameterGroups(named, 0.2), 0.9, 0.98, 1e-6) { LearningRate = 1e-5 };
        using var objective = new CoCaObjective();
        using var pixels = torch.randn(batch, 3, config.Vision.ImageSize, config.Vision.ImageSize);
        using var ids = torch.randint(1, 49000, [batch, config.Text.ContextLength], dtype: ScalarType.Int64);
        Console.WriteLine($"model: {name} (random weights, {parameters:N0} parameters), batch {batch}, text length {config.Text.ContextLength}");
        double Step()
        {
            var sw = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            var f = model.forward(pixels, ids);
            var loss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
            loss.Total.backward();
            optimizer.Step();
            optimizer.ZeroGrad();
            return sw.Elapsed.TotalSeconds;
        }
        Console.WriteLine($"warm-up step {Step():F2} s");
        var times = Enumerable.Range(0, steps).Select(_ => Step()).ToArray();
        double mean = times.Average();
        Console.WriteLine($"steps: {string.Join(", ", times.Select(t => $"{t:F2} s"))}");
        Console.WriteLine($"| {name} | {batch} | {mean:F2} s | {batch / mean:F1} | {MachineInfo.PeakRssMiB():F0} MiB |");
        return 0;
    }
}

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
        using var objective = new CoCaObjective();
        using var pixels = torch.randn(batch, 3, config.Vision.ImageSize, config.Vision.ImageSize);
        using var ids = torch.randint(1, 49000, [batch, config.Text.ContextLength], dtype: ScalarType.Int64);
        Console.WriteLine($"model: {name} (random weights, {parameters:N0} parameters), batch {batch}, text length {config.Text.ContextLength}");
        var groups = CoCaFineTuner.ParameterGroups(named, 0.2);
        using var optimizer = new AdamWOptimizer(groups, 0.9, 0.98, 1e-6) { LearningRate = 1e-5 };
        // Phases of one step: forward + CoCa loss, backward, optimizer (ours: AdamWOptimizer with explicit Scalars).
        (double Forward, double Backward, double Optimizer) Step(Action optimizerStep)
        {
            using var scope = NewDisposeScope();
            var sw = Stopwatch.StartNew();
            var f = model.forward(pixels, ids);
            var loss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
            loss.Total.item<float>();   // libtorch is synchronous on the CPU; item() marks the end of the forward
            double forward = sw.Elapsed.TotalSeconds;
            loss.Total.backward();
            double backward = sw.Elapsed.TotalSeconds - forward;
            optimizerStep();
            double total = sw.Elapsed.TotalSeconds;
            foreach (var p in model.parameters()) p.grad?.zero_();
            return (forward, backward, total - forward - backward);
        }
        static string Show((double F, double B, double O) t) => $"{t.F + t.B + t.O:F2} s (forward {t.F:F2}, backward {t.B:F2}, AdamW {t.O:F3})";
        Console.WriteLine($"warm-up step {Show(Step(optimizer.Step))}");
        var times = Enumerable.Range(0, steps).Select(_ => Step(optimizer.Step)).ToArray();
        foreach (var t in times) Console.WriteLine($"step {Show(t)}");
        double mean = times.Average(t => t.Forward + t.Backward + t.Optimizer);
        double ours = times.Average(t => t.Optimizer);
        double peakMiB = MachineInfo.PeakRssMiB();   // before the peer adds a second optimizer state

        // Peer for the one TorchSharp component we replaced: torch.optim.AdamW (TorchSharp's own, the same update with
        // implicit Scalars), one optimizer per weight-decay group, stepped on the same gradients. The modules are
        // TorchSharp's own operators (linear, layer_norm, scaled_dot_product_attention) in open_clip's layout, so there
        // is no other "plain TorchSharp" variant of the step to compare.
        var peers = groups.Select(g => torch.optim.AdamW(g.Parameters, 1e-5, 0.9, 0.98, 1e-6, g.WeightDecay)).ToList();
        Step(() => peers.ForEach(o => o.step()));   // warm-up: creates the peer's state
        var peerTimes = Enumerable.Range(0, steps).Select(_ => Step(() => peers.ForEach(o => o.step()))).ToArray();
        double peer = peerTimes.Average(t => t.Optimizer);
        peers.ForEach(o => o.Dispose());
        Console.WriteLine($"AdamW step: ours {ours:F3} s, torch.optim.AdamW {peer:F3} s (ours/peer {ours / peer:F2}×)");
        Console.WriteLine($"| {name} | {batch} | {mean:F2} s | {batch / mean:F1} | {ours:F3} s vs {peer:F3} s | {peakMiB:F0} MiB |");
        return 0;
    }
}

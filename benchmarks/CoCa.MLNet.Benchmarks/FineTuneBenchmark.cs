using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;
using static TorchSharp.torch;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Training pairs/s and peak RSS of one CoCa training step (forward, CoCa loss, backward, AdamW with open_clip's groups,
/// logit_scale clamp) on random weights and random inputs (no image decoding), CPU, in each of the modes fp32, bf16
/// (mixed precision), fp32 and bf16 with activation checkpointing: one run, each mode in its own process (so that each
/// peak RSS is its own), then a table with the ratios to fp32. Each step also prints its phases' peak RSS (forward with
/// the loss, backward, AdamW) and the RSS after each, and the RSS before the first step, to show where the memory goes.
/// Options: --model coca_ViT-B-32 | tiny (the 32² demo-size CoCa), --batch 32, --steps 3 (after one warm-up step),
/// --modes fp32,bf16,fp32+ckpt,bf16+ckpt (also fp32+logits / bf16+logits: the caption loss by autograd over the whole
/// [N, L−1, V] logits, as the trainers computed it before 2026-12-07, to see what the fused loss saves), --adamw-peer
/// (also time torch.optim.AdamW on the fp32 step's gradients).
/// </summary>
internal static class FineTuneBenchmark
{
    private const string ResultPrefix = "RESULT ";

    public static int Run(string[] args)
    {
        if (args.Contains("--mode")) return RunMode(args);   // a child: one mode
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        var modes = StringArg(args, "--modes", "fp32,bf16,fp32+ckpt,bf16+ckpt").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] known = [.. from p in new[] { "fp32", "bf16" } from m in new[] { "", "+ckpt", "+logits" } select p + m];
        if (modes.FirstOrDefault(m => !known.Contains(m)) is { } unknown)
        {
            Console.Error.WriteLine($"finetune: unknown mode '{unknown}'; expected some of {string.Join(", ", known)}.");
            return 2;
        }
        Console.WriteLine($"machine: {MachineInfo.Describe()}; CPU bfloat16 instructions (AVX-512 BF16 / AMX): {(BFloat16Support.IsSupported(torch.CPU) ? "yes" : "no")}");
        var results = new List<(string Mode, ModeResult Result)>();
        foreach (var mode in modes)
        {
            Console.WriteLine($"--- {mode}");
            var childArgs = args.Where((a, i) => a != "--modes" && (i == 0 || args[i - 1] != "--modes")).Append("--mode").Append(mode).ToArray();
            if (mode != "fp32") childArgs = childArgs.Where(a => a != "--adamw-peer").ToArray();
            var result = RunChild(childArgs);
            if (result is null) return 1;
            results.Add((mode, result));
        }

        var baseline = results.FirstOrDefault(r => r.Mode == "fp32").Result;
        Console.WriteLine();
        Console.WriteLine($"| model | mode | batch | s/step | pairs/s | forward / backward / AdamW | peak RSS |{(baseline is null ? "" : " pairs/s vs fp32 | peak RSS vs fp32 |")}");
        Console.WriteLine($"| --- | --- | ---: | ---: | ---: | --- | ---: |{(baseline is null ? "" : " ---: | ---: |")}");
        foreach (var (mode, r) in results)
        {
            var line = $"| {name} | {mode} | {r.Batch} | {r.Seconds:F2} | {r.Batch / r.Seconds:F2} | {r.Forward:F2} / {r.Backward:F2} / {r.Optimizer:F3} s | {r.PeakMiB:F0} MiB |";
            if (baseline is not null) line += $" {baseline.Seconds / r.Seconds:F2}× | {r.PeakMiB / baseline.PeakMiB:F2}× |";
            Console.WriteLine(line);
        }
        return 0;
    }

    private sealed record StepResult(double Forward, double Backward, double Optimizer,
        (double Peak, double After) ForwardMemory, (double Peak, double After) BackwardMemory, (double Peak, double After) OptimizerMemory);

    /// <summary>
    /// Peak RSS phase by phase (<see cref="MachineInfo.ResetPeakRss"/> between phases) and the process's peak over all
    /// of them, which the reset would otherwise lose.
    /// </summary>
    private sealed class PhasePeaks
    {
        public PhasePeaks()
        {
            ProcessPeakMiB = MachineInfo.PeakRssMiB();
            PerPhase = MachineInfo.ResetPeakRss();
        }

        /// <summary>Whether the kernel lets the peak be reset (else every phase shows the process's peak so far).</summary>
        public bool PerPhase { get; }

        public double ProcessPeakMiB { get; private set; }

        /// <summary>Ends a phase: its peak RSS and the RSS now, in MiB; the next phase's peak starts here.</summary>
        public (double Peak, double After) End()
        {
            double peak = MachineInfo.PeakRssMiB(), after = MachineInfo.RssMiB();
            ProcessPeakMiB = Math.Max(ProcessPeakMiB, peak);
            if (PerPhase) MachineInfo.ResetPeakRss();
            return (peak, after);
        }
    }

    private sealed record ModeResult(int Batch, double Seconds, double Forward, double Backward, double Optimizer, double PeakMiB);

    /// <summary>This benchmark again in a child process (the same host and assembly); its output passes through.</summary>
    private static ModeResult? RunChild(string[] args)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        psi.ArgumentList.Add("finetune");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        ModeResult? result = null;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal))
            {
                var v = line[ResultPrefix.Length..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                result = new ModeResult((int)v[0], v[1], v[2], v[3], v[4], v[5]);
            }
            else Console.WriteLine(line);
        }
        process.WaitForExit();
        if (process.ExitCode != 0 || result is null) Console.Error.WriteLine($"the {string.Join(' ', args)} run failed (exit code {process.ExitCode})");
        return process.ExitCode == 0 ? result : null;
    }

    /// <summary>One mode (<c>fp32</c>, <c>bf16</c>, with <c>+ckpt</c>: activation checkpointing) in this process.</summary>
    private static int RunMode(string[] args)
    {
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        int batch = IntArg(args, "--batch", 32);
        int steps = IntArg(args, "--steps", 3);
        string mode = StringArg(args, "--mode", "fp32");
        var precision = mode.StartsWith("bf16", StringComparison.Ordinal) ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32;
        bool checkpointing = mode.EndsWith("+ckpt", StringComparison.Ordinal);
        bool wholeLogits = mode.EndsWith("+logits", StringComparison.Ordinal);
        var config = name == "tiny" ? TinyCoCa.Config : CoCaConfigs.Get(name);
        Console.WriteLine($"libtorch threads {torch.get_num_threads()}");
        torch.manual_seed(0);
        var memory = new PhasePeaks();
        using var model = new CoCaModel(config);
        CoCaInitializer.Initialize(model, 0);
        var (_, afterModel) = memory.End();
        model.train();
        model.CheckpointActivations = checkpointing;
        long parameters = model.parameters().Sum(p => p.numel());
        var named = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var objective = new CoCaObjective();
        using var pixels = torch.randn(batch, 3, config.Vision.ImageSize, config.Vision.ImageSize);
        using var ids = torch.randint(1, 49000, [batch, config.Text.ContextLength], dtype: ScalarType.Int64);
        Console.WriteLine($"model: {name} (random weights, {parameters:N0} parameters), batch {batch}, text length {config.Text.ContextLength}, " +
            $"{(precision == TrainingPrecision.BFloat16 ? "bf16 mixed precision" : "fp32")}{(checkpointing ? ", activation checkpointing" : wholeLogits ? ", caption loss over the whole logits" : "")}");
        var groups = OpenClipWeightDecay.Groups(named, 0.2);
        using var optimizer = new AdamWOptimizer(groups, 0.9, 0.98, 1e-6) { LearningRate = 1e-5 };
        var (_, afterOptimizer) = memory.End();
        // Phases of one step: forward + CoCa loss, backward, optimizer (ours: AdamWOptimizer with explicit Scalars); each
        // phase's peak RSS and the RSS after it (the allocator keeps freed memory for reuse, so "after" is an upper bound
        // of what is live).
        StepResult Step(Action optimizerStep)
        {
            using var scope = NewDisposeScope();
            memory.End();
            var sw = Stopwatch.StartNew();
            var loss = wholeLogits ? WholeLogitsLoss(model, objective, pixels, ids, precision)
                : CoCaFineTuner.StepLoss(model, objective, pixels, ids, precision);   // the fine-tuner's own step
            loss.Total.item<float>();   // libtorch is synchronous on the CPU; item() marks the end of the forward
            double forward = sw.Elapsed.TotalSeconds;
            var forwardMemory = memory.End();
            loss.Total.backward();
            CustomAutogradNodes.Release();
            double backward = sw.Elapsed.TotalSeconds - forward;
            var backwardMemory = memory.End();
            optimizerStep();
            double total = sw.Elapsed.TotalSeconds;
            var optimizerMemory = memory.End();
            optimizer.ZeroGrad();   // the fine-tuner's own: gradients dropped until the next backward pass
            return new(forward, backward, total - forward - backward, forwardMemory, backwardMemory, optimizerMemory);
        }
        string Show(StepResult t) => $"{t.Forward + t.Backward + t.Optimizer:F2} s (forward {t.Forward:F2}, backward {t.Backward:F2}, AdamW {t.Optimizer:F3})" +
            (memory.PerPhase ? $"; peak / after, MiB: forward {t.ForwardMemory.Peak:F0} / {t.ForwardMemory.After:F0}, backward {t.BackwardMemory.Peak:F0} / {t.BackwardMemory.After:F0}, AdamW {t.OptimizerMemory.Peak:F0} / {t.OptimizerMemory.After:F0}" : "");
        Console.WriteLine($"RSS before the first step: {afterModel:F0} MiB after making the model (weights, initialisation), " +
            $"{afterOptimizer:F0} MiB with AdamW's moments; peak so far {memory.ProcessPeakMiB:F0} MiB");
        Console.WriteLine($"warm-up step {Show(Step(optimizer.Step))}");
        var times = Enumerable.Range(0, steps).Select(_ => Step(optimizer.Step)).ToArray();
        foreach (var t in times) Console.WriteLine($"step {Show(t)}");
        memory.End();
        double peakMiB = memory.ProcessPeakMiB;   // before the peer adds a second optimizer state
        var mean = (F: times.Average(t => t.Forward), B: times.Average(t => t.Backward), O: times.Average(t => t.Optimizer));

        if (args.Contains("--adamw-peer"))
        {
            // Peer for the one TorchSharp component we replaced: torch.optim.AdamW (TorchSharp's own, the same update with
            // implicit Scalars), one optimizer per weight-decay group, stepped on the same gradients. The modules are
            // TorchSharp's own operators (linear, layer_norm, scaled_dot_product_attention) in open_clip's layout, so there
            // is no other "plain TorchSharp" variant of the step to compare.
            var peers = groups.Select(g => torch.optim.AdamW(g.Parameters, 1e-5, 0.9, 0.98, 1e-6, g.WeightDecay)).ToList();
            Step(() => peers.ForEach(o => o.step()));   // warm-up: creates the peer's state
            var peerTimes = Enumerable.Range(0, steps).Select(_ => Step(() => peers.ForEach(o => o.step()))).ToArray();
            double peer = peerTimes.Average(t => t.Optimizer);
            peers.ForEach(o => o.Dispose());
            Console.WriteLine($"AdamW step: ours {mean.O:F3} s, torch.optim.AdamW {peer:F3} s (ours/peer {mean.O / peer:F2}×)");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ResultPrefix}{batch} {mean.F + mean.B + mean.O} {mean.F} {mean.B} {mean.O} {peakMiB}"));
        return 0;
    }

    /// <summary>The CoCa loss as autograd makes it from the whole [N, L−1, V] logits (the evaluator's form).</summary>
    private static CoCaLoss WholeLogitsLoss(CoCaModel model, CoCaObjective objective, Tensor pixels, Tensor ids, TrainingPrecision precision)
    {
        using var _ = MixedPrecision.Enter(precision);
        var f = model.forward(pixels, ids);
        return objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
    }
}

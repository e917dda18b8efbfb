using System.Diagnostics;
using CoCa.MLNet.Training.Optimization;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Training.Tests.Pooling;
using Microsoft.ML;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Stress;

/// <summary>
/// Entry point of the test assembly run as a program (<c>dotnet CoCa.MLNet.Training.Tests.dll gc-stress MODE N</c>):
/// training work while another thread keeps forcing <c>GC.Collect()</c> + <c>GC.WaitForPendingFinalizers()</c>, so that
/// any TorchSharp object whose last managed use precedes the native call that reads it gets finalized during that
/// call. A native crash kills this process, not the test host: <see cref="GcStressTests"/> reads its exit code.
/// </summary>
public static class GcStressProgram
{
    public const string Verb = "gc-stress";
    public const string Completed = "gc-stress completed";

    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != Verb || !int.TryParse(args[2], out int n) || n < 1)
        {
            Console.Error.WriteLine($"usage: CoCa.MLNet.Training.Tests.dll {Verb} trainer|owned-adamw|torch-adamw COUNT");
            return 2;
        }
        using var stop = new CancellationTokenSource();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                collections++;
            }
        }) { IsBackground = true };
        var clock = Stopwatch.StartNew();
        collector.Start();
        long done = args[1] switch
        {
            "trainer" => Trainer(n),
            "owned-adamw" => Optimizer(n, owned: true),
            "torch-adamw" => Optimizer(n, owned: false),
            _ => -1,
        };
        stop.Cancel();
        collector.Join();
        if (done < 0)
        {
            Console.Error.WriteLine($"unknown mode '{args[1]}'");
            return 2;
        }
        Console.WriteLine($"{Completed}: {args[1]}, {done} steps, {collections} forced collections, {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>
    /// The trainer as users run it (dropout, label smoothing, warmup + cosine, validation), for <paramref name="epochs"/>
    /// epochs of 32 steps. With torch.optim.AdamW it died within 1 to 6 epochs in 3 runs of 3 ("Expected false to be true …
    /// toFloat", inside AdamW.step).
    /// </summary>
    private static long Trainer(int epochs)
    {
        var ml = new MLContext(seed: 1);
        var rows = SyntheticTokens.Needle(72, 6, 8, 3, seed: 1);
        var data = SyntheticTokens.ToDataView(ml, rows, 6, 8);
        data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var options = new AttentionalPoolerOptions
        {
            NumberOfEpochs = epochs, BatchSize = 2, Seed = 1, Dropout = 0.1, LabelSmoothing = 0.1, WeightDecay = 0.1,
            ValidationFraction = 1.0 / 9, EarlyStoppingPatience = 0, NumberOfHeads = 2,
            Progress = new InlineProgress<AttentionalPoolerProgress>(p => Console.WriteLine($"epoch {p.Epoch}, training loss {p.TrainingLoss:F4}")),
        };
        var result = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(data);
        return (long)result.History.Count * 32;
    }

    /// <summary>AdamW steps over 64 small parameters (many native calls per step, each with its hyper-parameters).</summary>
    private static long Optimizer(int steps, bool owned)
    {
        using var generator = new torch.Generator(1, torch.CPU);
        var parameters = Enumerable.Range(0, 64).Select(_ => new Parameter(torch.randn([16], generator: generator))).ToArray();
        foreach (var p in parameters) p.grad = torch.randn([16], generator: generator);
        using var ours = owned ? new AdamWOptimizer([new AdamWParameterGroup(parameters, 0.1)]) : null;
        using var theirs = owned ? null : torch.optim.AdamW([new AdamW.ParamGroup(parameters, 1e-3, 0.9, 0.999, 1e-8, 0.1, false, false)], 1e-3);
        for (int s = 0; s < steps; s++)
        {
            if (ours is not null) ours.Step();
            else theirs!.step();
        }
        return steps;
    }
}

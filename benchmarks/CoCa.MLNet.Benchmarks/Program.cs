// CoCa.MLNet benchmark harness. Speed and memory targets live here, not in unit tests.
// Run through ./dotnetw (TorchSharp peers need it):  ./dotnetw run -c Release --project benchmarks/CoCa.MLNet.Benchmarks -- <name> [options]
using CoCa.MLNet.Benchmarks;

var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["featurizer"] = FeaturizerBenchmark.Run,
    ["video"] = VideoBenchmark.Run,
    ["pooler"] = PoolerBenchmark.Run,
    ["defaults"] = DefaultsBenchmark.Run,
    ["int8"] = Int8Benchmark.Run,
    ["caption"] = CaptionBenchmark.Run,
    ["finetune"] = FineTuneBenchmark.Run,
    ["classifier"] = ClassifierBenchmark.Run,
    ["finetune-recipe"] = RecipeBenchmark.Run,
    ["precision-ops"] = PrecisionOpsBenchmark.Run,
    ["beam-memory"] = BeamMemoryBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: CoCa.MLNet.Benchmarks <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);

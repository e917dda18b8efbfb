using System.Diagnostics;
using System.Globalization;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Tests.Shared;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using TorchSharp.Modules;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;
using static TorchSharp.torch;
using CoCa.MLNet;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// The attentional pooler trainer.
/// <para>Speed (default): one training epoch (forward, backward, AdamW step; batches read from a float16 feature store)
/// on --examples N (default 2000) of image tokens [50, 768] and video tokens [16×50, 768], for our pooler (reassociated
/// attention) and for the plain formulation on <c>torch.nn.MultiheadAttention</c>, same libtorch, same data. The
/// examples are drawn from --distinct K (default 512) random token sets, so the video store fits in memory;
/// --video-baseline-examples M times the video baseline on fewer examples (scaled to N) when it is too slow;
/// --repeat R (default 3) keeps our fastest of R epochs; --threads T sets libtorch's threads.</para>
/// <para>Memory (--rss): trains through the ML.NET trainer from a disk cache of --cache-gib G (default 8) with a memory
/// budget of --budget-gib B (default 2) and reports the process's peak resident set size.</para>
/// </summary>
internal static class PoolerBenchmark
{
    private const int Classes = 10;

    public static int Run(string[] args)
    {
        // On a busy machine OpenMP's spinning threads slow small ops badly: --threads 1 gives steadier numbers.
        if (IntArg(args, "--threads", 0) is > 0 and var threads) torch.set_num_threads(threads);
        Console.WriteLine($"machine: {MachineInfo.Describe()}; libtorch threads {torch.get_num_threads()}");
        return args.Contains("--rss") ? RunMemory(args) : RunSpeed(args);
    }

    private static int RunSpeed(string[] args)
    {
        int examples = IntArg(args, "--examples", 2000);
        int distinct = Math.Min(examples, IntArg(args, "--distinct", 512));
        int videoBaselineExamples = Math.Min(examples, IntArg(args, "--video-baseline-examples", examples));
        int batch = IntArg(args, "--batch-size", 64);
        int dim = IntArg(args, "--dim", 768), tokens = IntArg(args, "--tokens", 50), frames = IntArg(args, "--frames", 16);
        Console.WriteLine($"one epoch of {examples} examples (from {distinct} distinct random token sets), batch {batch}, {Classes} classes, " +
                          $"heads D/64 = {AttentionalPoolerConfig.DefaultHeads(dim)}, 1 query; video baseline timed on {videoBaselineExamples} examples, scaled to {examples}");
        var rows = new List<string>();
        foreach (var (name, f) in new[] { ("image", 1), ("video", frames) })
        {
            var config = new AttentionalPoolerConfig
            {
                Frames = f, TokensPerFrame = tokens, Dim = dim, Heads = AttentionalPoolerConfig.DefaultHeads(dim), Queries = 1,
                Classes = Classes, FrameEmbeddings = f > 1,
            };
            var shape = new TokenShape(f, tokens, dim);
            using var store = RandomStore(shape, distinct);
            var labels = Enumerable.Range(0, examples).Select(i => i % Classes).ToArray();

            // The fastest of --repeat epochs (default 3): the least disturbed by other work on the machine.
            double ours = double.PositiveInfinity;
            for (int r = 0; r < IntArg(args, "--repeat", 3); r++)
                using (var generator = new torch.Generator(1, torch.CPU))
                using (var module = new AttentionalPoolerModule(config, 0.0, generator))
                    ours = Math.Min(ours, EpochSeconds(module, module.NamedTensors().Select(t => t.Tensor).ToList(), store, labels, examples, batch));
            Console.WriteLine($"  {name}: ours (reassociated) {ours:F2} s/epoch");
            double baseline;
            int baselineExamples = f > 1 ? videoBaselineExamples : examples;
            using (var module = new MultiheadAttentionPoolerModule(config))
                baseline = EpochSeconds(module, module.parameters().ToList(), store, labels, baselineExamples, batch) * examples / baselineExamples;
            Console.WriteLine($"  {name}: nn.MultiheadAttention {baseline:F2} s/epoch");
            var label = f == 1 ? $"image [{tokens}, {dim}]" : $"video [{f}×{tokens}, {dim}]";
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {examples} | {baseline:F2} | {ours:F2} | {examples / ours:F0} | {baseline / ours:F1}× |"));
        }
        Console.WriteLine();
        Console.WriteLine("| tokens | examples | nn.MultiheadAttention pooler, s/epoch | reassociated pooler, s/epoch | reassociated, examples/s | speed-up |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine($"peak RSS {MachineInfo.PeakRssMiB():F0} MiB");
        return 0;
    }

    /// <summary>Seconds for one epoch of <paramref name="examples"/> shuffled examples, after two warm-up steps.</summary>
    private static double EpochSeconds(nn.Module<Tensor, Tensor> module, IList<Parameter> parameters, FeatureStore store, int[] labels, int examples, int batch)
    {
        module.train();
        using var optimizer = torch.optim.AdamW(parameters, 1e-3, weight_decay: 1e-4);
        var loader = new TokenBatchLoader(store, batch, torch.CPU);
        var order = Enumerable.Range(0, examples).ToArray();
        new Random(1).Shuffle(order);

        void Step(ReadOnlySpan<int> rows)
        {
            using var scope = NewDisposeScope();
            var stored = new int[rows.Length];
            for (int i = 0; i < rows.Length; i++) stored[i] = rows[i] % store.Count;
            var x = loader.Load(stored);
            var y = torch.tensor(rows.ToArray().Select(r => (long)labels[r]).ToArray());
            var loss = nn.functional.cross_entropy(module.forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }

        Step(order.AsSpan(0, Math.Min(batch, examples)));
        Step(order.AsSpan(0, Math.Min(batch, examples)));
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < examples; start += batch)
            Step(order.AsSpan(start, Math.Min(batch, examples - start)));
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>An in-memory float16 store of <paramref name="count"/> random token sets (standard normal).</summary>
    private static InMemoryFeatureStore RandomStore(TokenShape shape, int count)
    {
        var chunks = new List<Half[]>();
        using var generator = new torch.Generator(7, torch.CPU);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var row = torch.randn([shape.RowLength], generator: generator).to(ScalarType.Float16);
            chunks.Add(row.data<Half>().ToArray());
        }
        return new InMemoryFeatureStore(shape, count, chunks, rowsPerChunk: 1);
    }

    // ---- memory ------------------------------------------------------------------------------------------------

    private static int RunMemory(string[] args)
    {
        double cacheGiB = DoubleArg(args, "--cache-gib", 8), budgetGiB = DoubleArg(args, "--budget-gib", 2);
        int dim = IntArg(args, "--dim", 768), tokens = IntArg(args, "--tokens", 50), epochs = IntArg(args, "--epochs", 1);
        long rowBytes = (long)tokens * dim * sizeof(ushort);
        int count = (int)(cacheGiB * (1L << 30) / rowBytes);
        long budget = (long)(budgetGiB * (1L << 30));
        Console.WriteLine($"training from a float16 disk cache of {count} examples [{tokens}, {dim}] = {count * rowBytes / (double)(1L << 30):F2} GiB, memory budget {budgetGiB:F2} GiB, {epochs} epoch(s)");

        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(new LazyTokenRows(count, tokens * dim), SchemaFor(tokens, dim));
        var options = new AttentionalPoolerOptions
        {
            FeatureColumnName = "Features", NumberOfEpochs = epochs, BatchSize = 64, Seed = 1, MemoryBudgetBytes = budget, ValidationFraction = 0.02,
            Progress = new InlineProgress<AttentionalPoolerProgress>(value => Console.WriteLine($"  {value}; peak RSS so far {MachineInfo.PeakRssMiB():F0} MiB")),
        };
        var clock = Stopwatch.StartNew();
        var result = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(data);
        double seconds = clock.Elapsed.TotalSeconds;
        double peak = MachineInfo.PeakRssMiB();
        Console.WriteLine();
        Console.WriteLine("| disk cache | memory budget | features on disk | examples | wall time (featurize + train) | training examples/s | peak RSS |");
        Console.WriteLine("| ---: | ---: | :---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {count * rowBytes / (double)(1L << 30):F2} GiB | {budgetGiB:F2} GiB | {(result.FeaturesOnDisk ? "yes" : "no")} | {count} | {seconds:F0} s | {result.History.Average(h => h.SamplesPerSecond):F0} | {peak:F0} MiB ({peak / 1024 / budgetGiB:P0} of budget) |"));
        return peak <= budgetGiB * 1024 ? 0 : 1;
    }

    private static SchemaDefinition SchemaFor(int tokens, int dim)
    {
        var schema = SchemaDefinition.Create(typeof(TokenRow));
        schema[nameof(TokenRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, tokens, dim);
        // LoadFromEnumerable treats a key value equal to the count as missing: one spare slot keeps keys 1..Classes valid.
        schema[nameof(TokenRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), Classes + 1);
        return schema;
    }

    /// <summary>One example; its tokens are made only when the Features column is read (the label pass skips them).</summary>
    private sealed class TokenRow
    {
        private readonly float[]? _pool;
        private readonly int _offset, _length;

        public TokenRow() { }

        public TokenRow(float[] pool, int offset, int length, uint label)
        {
            _pool = pool;
            _offset = offset;
            _length = length;
            Label = label;
        }

        // One buffer per thread: ML.NET copies the values out, and no per-row garbage muddles the RSS measurement.
        [ThreadStatic] private static float[]? t_buffer;

        public float[] Features
        {
            get
            {
                if (t_buffer?.Length != _length) t_buffer = new float[_length];
                _pool!.AsSpan(_offset, _length).CopyTo(t_buffer);
                return t_buffer;
            }
            set { }
        }

        public uint Label { get; set; }
    }

    /// <summary>Rows streamed from an 8 Mi-value random pool at row-dependent offsets: no dataset in memory.</summary>
    private sealed class LazyTokenRows(int count, int length) : IEnumerable<TokenRow>
    {
        private readonly float[] _pool = MakePool(8 << 20);

        private static float[] MakePool(int size)
        {
            var random = new Random(3);
            var pool = new float[size];
            for (int i = 0; i < size; i++) pool[i] = random.NextSingle() * 4 - 2;
            return pool;
        }

        public IEnumerator<TokenRow> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
                yield return new TokenRow(_pool, (int)((long)i * 7919 % (_pool.Length - length)), length, (uint)(i % Classes + 1));
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static double DoubleArg(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

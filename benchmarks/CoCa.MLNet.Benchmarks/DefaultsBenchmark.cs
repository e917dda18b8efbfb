using System.Diagnostics;
using System.Globalization;
using CoCa.MLNet.Tests.Shared;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Do the trainer's defaults converge on data sets of any size? Two synthetic frozen-token tasks, each trained with
/// the defaults only (the feature column and a seed), with the defaults of before the step-based plan (30 epochs,
/// batch 64, warmup 10 %, patience 10), and with a long early-stopped reference run of the same architecture
/// (batch 16, at most 300 epochs, patience 30); held-out top-1 accuracy, mean over --seeds S (default 2) seeds.
/// <list type="bullet">
/// <item>video event time: 800 training videos of [4 frames × 8 tokens, 128] (2 heads by default); one of two event
/// patterns happens in one frame at a random position, a distractor in another; the class is the event and whether it
/// happens in the first or the second half (4 classes). As in the video end-to-end test, when things happen decides
/// the class: the pooler needs its frame embeddings. From pure-noise tokens, 160 videos were too few for any recipe
/// to learn the time (all stayed at the 50 % of knowing the event), as were 160–1,200 videos for two patterns whose
/// order decides the class; --videos, --frames, --pattern-scale change the task.</item>
/// <item>image 10 classes: 1,200 training images of [50 tokens, 64]; the class vector, weak, is added to 4 tokens
/// at random positions and another class's, weaker, to 4 others (position-varying content).</item>
/// </list>
/// Held-out sets: 1,000 examples each, drawn the same way.
/// </summary>
internal static class DefaultsBenchmark
{
    private static float PatternScale = 3f, ClassScale = 0.45f;
    private static int VideoFrames = 4;

    private sealed record Task(string Name, int[] Dims, Func<int, int, List<(float[] Tokens, int Label)>> Make, int Train);

    private sealed record Recipe(string Name, Func<int, AttentionalPoolerOptions> Options);

    public static int Run(string[] args)
    {
        // Small tensors: one libtorch thread is fastest, and steadiest on a shared machine (--threads T to change).
        torch.set_num_threads(IntArg(args, "--threads", 1));
        int seeds = IntArg(args, "--seeds", 2);
        PatternScale = (float)double.Parse(StringArg(args, "--pattern-scale", "3"), CultureInfo.InvariantCulture);
        VideoFrames = IntArg(args, "--frames", 4);
        int videos = IntArg(args, "--videos", 800);
        ClassScale = (float)double.Parse(StringArg(args, "--class-scale", "0.45"), CultureInfo.InvariantCulture);
        string only = StringArg(args, "--task", "all");
        Console.WriteLine($"machine: {MachineInfo.Describe()}; libtorch threads {torch.get_num_threads()}; {seeds} seed(s)");
        var tasks = new[]
        {
            new Task($"video event time, 4 classes, {videos} videos [{VideoFrames}×8, 128]", [VideoFrames, 8, 128], VideoOrder, videos),
            new Task("image, 10 classes, 1,200 images [50, 64]", [50, 64], Image10, 1200),
        }.Where(t => only == "all" || t.Name.StartsWith(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        var recipes = new[]
        {
            new Recipe("defaults", seed => new AttentionalPoolerOptions { Seed = seed }),
            new Recipe("old defaults (30 epochs, batch 64)", seed => new AttentionalPoolerOptions
            {
                Seed = seed, NumberOfEpochs = 30, BatchSize = 64, EarlyStoppingPatience = 10,
            }),
            new Recipe("reference (batch 16, ≤ 300 epochs, patience 30)", seed => new AttentionalPoolerOptions
            {
                Seed = seed, NumberOfEpochs = 300, BatchSize = 16, EarlyStoppingPatience = 30,
            }),
        };

        var table = new List<string>();
        foreach (var task in tasks)
        {
            var accuracies = new Dictionary<string, List<double>>();
            var details = new Dictionary<string, List<string>>();
            for (int seed = 1; seed <= seeds; seed++)
            {
                var train = task.Make(task.Train, 100 + seed);
                var test = task.Make(1000, 900 + seed);
                foreach (var recipe in recipes)
                {
                    var clock = Stopwatch.StartNew();
                    var (accuracy, epochs, best) = TrainAndScore(task, train, test, recipe.Options(seed));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {task.Name} | {recipe.Name} | seed {seed}: top-1 {accuracy:P1}, ran {epochs} epochs, kept epoch {best}, {clock.Elapsed.TotalSeconds:F1} s"));
                    (accuracies.TryGetValue(recipe.Name, out var a) ? a : accuracies[recipe.Name] = []).Add(accuracy);
                    (details.TryGetValue(recipe.Name, out var d) ? d : details[recipe.Name] = []).Add($"{epochs}/{best}");
                }
            }
            double reference = accuracies[recipes[^1].Name].Average();
            foreach (var recipe in recipes)
            {
                var acc = accuracies[recipe.Name];
                table.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {task.Name} | {recipe.Name} | {acc.Average() * 100:F1} | {string.Join(" / ", acc.Select(x => (x * 100).ToString("F1", CultureInfo.InvariantCulture)))} | {(acc.Average() - reference) * 100:+0.0;-0.0;0.0} | {string.Join(" ", details[recipe.Name])} |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine("| task | recipe | held-out top-1, % (mean) | per seed | vs reference, points | epochs run / kept, per seed |");
        Console.WriteLine("| --- | --- | ---: | --- | ---: | --- |");
        foreach (var row in table) Console.WriteLine(row);
        return 0;
    }

    private static (double Accuracy, int Epochs, int Best) TrainAndScore(Task task, List<(float[] Tokens, int Label)> train, List<(float[] Tokens, int Label)> test, AttentionalPoolerOptions options)
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Tokens)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, task.Dims);
        var view = ml.Data.LoadFromEnumerable(train.Select(r => new Row { Tokens = r.Tokens, Label = r.Label }), schema);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        var result = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(keyed);
        using var scorer = new AttentionalPoolerTorchScorer(result.Weights);
        var names = result.Info.LabelValues!;
        var p = scorer.PredictProbabilities(test.SelectMany(r => r.Tokens).ToArray(), test.Count);
        int k = names.Length, correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            int best = 0;
            for (int j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
            if (names[best] == test[i].Label.ToString(CultureInfo.InvariantCulture)) correct++;
        }
        return ((double)correct / test.Count, result.History.Count, result.BestEpoch);
    }

    private sealed class Row
    {
        public float[] Tokens { get; set; } = [];
        public int Label { get; set; }
    }

    /// <summary>
    /// [F frames × 8 tokens, 128]: one of two event patterns (A or B) happens in one frame, at a random position, and a
    /// distractor pattern in another; class = the event × whether it happens in the first or the second half of the video.
    /// </summary>
    private static List<(float[] Tokens, int Label)> VideoOrder(int count, int seed)
    {
        int frames = VideoFrames;
        const int tokens = 8, dim = 128;
        var proto = new Random(7);
        var patterns = Enumerable.Range(0, 3).Select(_ => Gaussian(proto, dim, PatternScale)).ToArray();
        var random = new Random(seed);
        var rows = new List<(float[], int)>(count);
        for (int n = 0; n < count; n++)
        {
            int evt = random.Next(2), frame = random.Next(frames), other;
            do other = random.Next(frames); while (other == frame);
            var x = Noise(random, frames * tokens * dim);
            Add(x, (frame * tokens + random.Next(tokens)) * dim, patterns[evt]);
            Add(x, (other * tokens + random.Next(tokens)) * dim, patterns[2]);
            rows.Add((x, evt * 2 + (frame < frames / 2 ? 0 : 1)));
        }
        return rows;
    }

    /// <summary>[50 tokens, 64]: the class vector (weak) on 4 random tokens, another class's (weaker) on 4 others.</summary>
    private static List<(float[] Tokens, int Label)> Image10(int count, int seed)
    {
        const int tokens = 50, dim = 64, classes = 10;
        var proto = new Random(11);
        var classVectors = Enumerable.Range(0, classes).Select(_ => Gaussian(proto, dim, ClassScale)).ToArray();
        var random = new Random(seed);
        var rows = new List<(float[], int)>(count);
        for (int n = 0; n < count; n++)
        {
            int label = random.Next(classes), other = (label + 1 + random.Next(classes - 1)) % classes;
            var x = Noise(random, tokens * dim);
            var positions = Enumerable.Range(0, tokens).OrderBy(_ => random.Next()).Take(8).ToArray();
            for (int i = 0; i < 4; i++) Add(x, positions[i] * dim, classVectors[label]);
            for (int i = 4; i < 8; i++) Add(x, positions[i] * dim, classVectors[other], 0.6f);
            rows.Add((x, label));
        }
        return rows;
    }

    private static void Add(float[] x, int offset, float[] v, float scale = 1f)
    {
        for (int d = 0; d < v.Length; d++) x[offset + d] += scale * v[d];
    }

    private static float[] Noise(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)NextGaussian(random);
        return x;
    }

    private static float[] Gaussian(Random random, int dim, float scale) => Enumerable.Range(0, dim).Select(_ => scale * (float)NextGaussian(random)).ToArray();

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Demo;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Images/s of a ViT-B/32-size CoCa encoder (224², random weights). Baseline: ONNX Runtime called directly on
/// already preprocessed batches, at its best intra-op thread count (1..cores tried, each printed). Against it: the
/// ML.NET featurizer from PNG files with default options (pipelined decoding, all cores), the same work without
/// overlap (decode + preprocess, then encode), <c>coca featurize</c> (its own process; steady-state rate from the
/// difference of an N-image and a 2N-image run, so start-up and model loading cancel out), and the TorchSharp eager
/// tower. Options: --images N (default 128), --rounds R (default 3: paths interleaved, best
/// round of each kept), --model coca_ViT-B-32, --no-eager, --no-cli.
/// </summary>
internal static class FeaturizerBenchmark
{
    public static int Run(string[] args)
    {
        int count = IntArg(args, "--images", 128);
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        const int batch = 32;
        var work = Directory.CreateTempSubdirectory("coca-bench-");
        try
        {
            var config = CoCaConfigs.Get(name);
            Console.WriteLine($"machine: {MachineInfo.Describe()}");
            Console.WriteLine($"model: {name} (random weights), {count} images 320x240 PNG, batch {batch}");
            var sw = Stopwatch.StartNew();
            var weights = RandomCoCaCheckpoint.Create(config, seed: 0, includeText: false);
            var modelDir = Path.Combine(work.FullName, "model");
            CoCaConverter.Convert(weights, config, modelDir);
            Console.WriteLine($"convert: {sw.Elapsed.TotalSeconds:F1} s");
            var files = SyntheticImageDataset.Generate(Path.Combine(work.FullName, "images"), classCount: 4, perClass: (2 * count + 3) / 4, width: 320, height: 240)
                .Take(2 * count).Select(f => f.Path).ToArray();
            var measured = files[..count];

            // Rounds interleave the paths, and each path keeps its best round: on a shared machine load comes and goes.
            int rounds = IntArg(args, "--rounds", 3);
            var model = ConvertedModel.Open(modelDir);
            var pixels = Preprocess(model.Config, measured);
            var directByThreads = new double[CpuBudget.AvailableCores + 1];
            double featurizer = 0, sequential = 0;
            for (int round = 1; round <= rounds; round++)
            {
                for (int threads = 1; threads <= CpuBudget.AvailableCores; threads++)
                    directByThreads[threads] = Math.Max(directByThreads[threads], MeasureDirectOnnx(model, pixels, measured.Length, batch, threads));
                featurizer = Math.Max(featurizer, MeasureFeaturizer(modelDir, measured, batch));
                sequential = Math.Max(sequential, MeasureSequential(modelDir, measured, batch));
                Console.WriteLine($"round {round}: direct {string.Join(", ", directByThreads.Skip(1).Select((r, i) => $"{i + 1} thread(s) {r:F1}"))}; featurizer {featurizer:F1}; without overlap {sequential:F1} (best so far, images/s); load {LoadAverage()}");
            }
            int bestThreads = Array.IndexOf(directByThreads, directByThreads.Max());
            double direct = directByThreads[bestThreads];
            var rows = new List<(string Path, double Rate)>();
            rows.Add(($"ML.NET featurizer, default options (PNG → tokens; decoding overlaps ONNX Runtime; {CpuBudget.AvailableCores} intra-op threads)", featurizer));
            rows.Add(($"same work without overlap (decode + preprocess a batch on all cores, then encode it)", sequential));
            if (!args.Contains("--no-cli"))
                rows.Add(($"`coca featurize` (own process, steady state: ({2 * count} − {count}) images / (t₂ₙ − tₙ))", MeasureCli(modelDir, files, count, batch, work.FullName)));
            rows.Add(($"ONNX Runtime direct, best thread count ({bestThreads}), preprocessed batches of {batch}", direct));
            if (!args.Contains("--no-eager"))
                rows.Add(($"TorchSharp eager tower (preprocessed batches of {batch})", TorchEagerPeer.ImagesPerSecond(config, weights, modelDir, measured, batch)));

            Console.WriteLine();
            Console.WriteLine($"| path | images/s | vs direct ONNX Runtime at {bestThreads} threads |");
            Console.WriteLine("| --- | ---: | ---: |");
            foreach (var (path, rate) in rows)
                Console.WriteLine($"| {path} | {rate:F1} | {rate / direct:P0} |");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static double MeasureFeaturizer(string modelDir, string[] files, int batch)
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(files.Select(f => new { Image = f }));
        using var model = ml.Transforms.ExtractCoCaImageFeatures(modelDir, embeddingColumnName: null, batchSize: batch).Fit(data);
        Drain(model.Transform(ml.Data.TakeRows(data, batch)), "Tokens"); // warm-up
        var sw = Stopwatch.StartNew();
        Drain(model.Transform(data), "Tokens");
        return files.Length / sw.Elapsed.TotalSeconds;
    }

    private static double MeasureSequential(string modelDir, string[] files, int batch)
    {
        using var extractor = CoCaImageFeatureExtractor.Open(modelDir);
        extractor.Extract(files[..batch], tokens: true, embeddings: false); // warm-up
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < files.Length; start += batch)
            extractor.Extract(files[start..Math.Min(files.Length, start + batch)], tokens: true, embeddings: false);
        return files.Length / sw.Elapsed.TotalSeconds;
    }

    private static double MeasureCli(string modelDir, string[] files, int count, int batch, string work)
    {
        var list = Path.Combine(work, "cli-inputs");
        double Time(int n)
        {
            var dir = Path.Combine(list, n.ToString());
            Directory.CreateDirectory(dir);
            foreach (var f in files[..n]) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
            var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "coca.dll"), "featurize", "--model", modelDir, "--images", dir, "--out", Path.Combine(work, $"cli-{n}.npy"), "--batch-size", batch.ToString() })
                psi.ArgumentList.Add(a);
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"coca featurize failed: {stderr.Result}");
            var seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"coca featurize, {n} images: {seconds:F2} s; {stdout.Result.Split('\n')[0]}");
            return seconds;
        }
        double tn = Time(count), t2n = Time(2 * count);
        return count / (t2n - tn);
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    private static double MeasureDirectOnnx(ConvertedModel model, float[] pixels, int count, int batch, int threads)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        using var session = new InferenceSession(model.VisionModelPath, options);
        int s = model.Config.Vision.ImageSize, per = 3 * s * s;
        void RunBatch(int start)
        {
            int n = Math.Min(batch, count - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(start * per, n * per), [n, 3, s, s]);
            using var runOptions = new RunOptions();
            using var output = session.Run(runOptions, ["pixel_values"], [input], ["tokens"]);
        }
        RunBatch(0); // warm-up
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < count; start += batch) RunBatch(start);
        return count / sw.Elapsed.TotalSeconds;
    }

    internal static float[] Preprocess(CoCaModelConfig config, string[] files)
    {
        var pre = new CoCaImagePreprocessor(config.Preprocess with { ImageSize = config.Vision.ImageSize });
        int per = 3 * config.Vision.ImageSize * config.Vision.ImageSize;
        var pixels = new float[files.Length * per];
        Parallel.For(0, files.Length, i => pre.Preprocess(ImageDecoder.Decode(files[i]), pixels.AsSpan(i * per, per)));
        return pixels;
    }

    private static void Drain(IDataView data, string column)
    {
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> value = default;
        while (cursor.MoveNext()) getter(ref value);
    }

    internal static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }

    internal static string StringArg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

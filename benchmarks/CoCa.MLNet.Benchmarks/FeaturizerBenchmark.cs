using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Datasets;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Preprocessing;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Images/s of a ViT-B/32-size CoCa encoder (224², random weights): the ML.NET featurizer (from PNG files,
/// preprocessing included) vs ONNX Runtime called directly on preprocessed batches of 32 vs the TorchSharp
/// eager tower on the same batches. Options: --images N (default 128), --model coca_ViT-B-32.
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
            var files = SyntheticImageDataset.Generate(Path.Combine(work.FullName, "images"), classCount: 4, perClass: (count + 3) / 4, width: 320, height: 240)
                .Take(count).Select(f => f.Path).ToArray();

            double featurizer = MeasureFeaturizer(modelDir, files, batch);
            double direct = MeasureDirectOnnx(modelDir, files, batch);
            double eager = TorchEagerPeer.ImagesPerSecond(config, weights, modelDir, files, batch);

            Console.WriteLine();
            Console.WriteLine("| path | images/s | vs direct ONNX Runtime |");
            Console.WriteLine("| --- | ---: | ---: |");
            Console.WriteLine($"| ML.NET featurizer (PNG → tokens, preprocessing included) | {featurizer:F1} | {featurizer / direct:P0} |");
            Console.WriteLine($"| ONNX Runtime direct (preprocessed batches of {batch}) | {direct:F1} | 100% |");
            Console.WriteLine($"| TorchSharp eager tower (preprocessed batches of {batch}) | {eager:F1} | {eager / direct:P0} |");
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

    private static double MeasureDirectOnnx(string modelDir, string[] files, int batch)
    {
        var model = ConvertedModel.Open(modelDir);
        var pixels = Preprocess(model.Config, files);
        using var session = new InferenceSession(model.VisionModelPath, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        int s = model.Config.Vision.ImageSize, per = 3 * s * s;
        void RunBatch(int start)
        {
            int n = Math.Min(batch, files.Length - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(start * per, n * per), [n, 3, s, s]);
            using var output = session.Run(new RunOptions(), ["pixel_values"], [input], ["tokens"]);
        }
        RunBatch(0); // warm-up
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < files.Length; start += batch) RunBatch(start);
        return files.Length / sw.Elapsed.TotalSeconds;
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

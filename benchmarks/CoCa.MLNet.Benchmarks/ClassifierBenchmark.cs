using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using TorchSharp;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// The fine-tuned classifier (issue 19) on a random-weight model (default coca_ViT-B-32, 224²): seconds per epoch
/// after the first (all blocks training vs only the top N over the cached output of the lower ones), the one-off cost
/// of that cache, and the process's peak RSS. One mode per run, so that each peak is its own:
/// Options: --blocks all|N (default all), --images 64, --batch 32, --model coca_ViT-B-32 | tiny.
/// </summary>
internal static class ClassifierBenchmark
{
    private sealed class Row
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    public static int Run(string[] args)
    {
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        string blocks = StringArg(args, "--blocks", "all");
        int count = IntArg(args, "--images", 64), batch = IntArg(args, "--batch", 32);
        var config = name == "tiny" ? TinyCoCa.Config : CoCaConfigs.Get(name);
        int? trainable = blocks == "all" ? null : int.Parse(blocks, System.Globalization.CultureInfo.InvariantCulture);
        var work = Directory.CreateTempSubdirectory("coca-bench-classifier-");
        try
        {
            Console.WriteLine($"machine: {MachineInfo.Describe()}, libtorch threads {torch.get_num_threads()}");
            var checkpoint = Path.Combine(work.FullName, "checkpoint");
            Directory.CreateDirectory(checkpoint);
            SafetensorsWriter.Write(Path.Combine(checkpoint, CheckpointLoader.HubSafetensorsFile), RandomCoCaCheckpoint.Create(config, seed: 0, includeText: false));
            OpenClipConfigWriter.Write(config, checkpoint);
            var files = SyntheticImageDataset.Generate(Path.Combine(work.FullName, "images"), classCount: 4, perClass: (count + 3) / 4, width: 320, height: 240)
                .Take(count).Select(f => new Row { Image = f.Path, Label = f.Label }).ToList();
            var ml = new MLContext(seed: 0);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(files)).Transform(ml.Data.LoadFromEnumerable(files));
            Console.WriteLine($"model: {name} (random weights), {count} images 320x240 PNG, batch {batch}, trainable blocks {blocks} of {config.Vision.Layers}");

            var epochs = new List<AttentionalPoolerProgress>();
            var clock = Stopwatch.StartNew();
            var options = new FineTunedCoCaOptions
            {
                Checkpoint = checkpoint, TrainableBlocks = trainable, NumberOfEpochs = 2, BatchSize = batch, ValidationFraction = 0, Seed = 0,
                Progress = new CoCa.MLNet.InlineProgress<AttentionalPoolerProgress>(p => { epochs.Add(p); Console.WriteLine(p); }),
            };
            ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Train(data);
            double total = clock.Elapsed.TotalSeconds;
            double epochSeconds(AttentionalPoolerProgress p) => count / p.SamplesPerSecond;
            double before = total - epochs.Sum(epochSeconds);
            Console.WriteLine($"| {name} | {blocks} | {epochSeconds(epochs[^1]):F1} s | {before:F1} s | {MachineInfo.PeakRssMiB():F0} MiB |");
            Console.WriteLine("(columns: model, trainable blocks, seconds of the second epoch, seconds before training (loading, checking inputs, lower-block cache), peak RSS)");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}

using System.CommandLine;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca demo</c>: the main job on built-in data, end to end, with no download: make a small CoCa checkpoint in
/// open_clip's hub layout, convert it, generate a labelled image set, featurize it through the ML.NET pipeline,
/// save and reload the pipeline; then train an attentional pooler on the frozen tokens of part of the images, evaluate
/// it on the rest, predict a few, and save the whole pipeline as one file.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var work = new Option<string>("--work", "-w") { Description = "Folder for the demo's checkpoint, model, data and outputs", DefaultValueFactory = _ => "coca-demo" };
        var classes = new Option<int>("--classes") { Description = "Number of classes in the generated image set", DefaultValueFactory = _ => 3 };
        var perClass = new Option<int>("--per-class") { Description = "Images per class", DefaultValueFactory = _ => 40 };
        var seed = new Option<int>("--seed") { Description = "Seed for weights and data", DefaultValueFactory = _ => 0 };
        var command = new Command("demo", "Run the whole path on built-in data: make a small CoCa, convert it, featurize generated images, train, evaluate and predict") { work, classes, perClass, seed };
        command.SetAction(parse => Run(parse.GetValue(work)!, parse.GetValue(classes), parse.GetValue(perClass), parse.GetValue(seed)));
        return command;
    }

    private static int Run(string workDir, int classCount, int perClass, int seed)
    {
        Directory.CreateDirectory(workDir);
        var config = SmallCoCa.Config();

        Step("1/7", $"making a small random CoCa ({config.Name}) in open_clip's hub layout");
        var checkpointDir = Path.Combine(workDir, "checkpoint");
        SmallCoCa.WriteHubFolder(checkpointDir, config, seed);
        Console.WriteLine($"      {checkpointDir}/open_clip_config.json + open_clip_model.safetensors");

        Step("2/7", "converting it to ONNX (coca convert)");
        var model = CoCaConverter.Convert(checkpointDir, Path.Combine(workDir, "model"));
        Console.WriteLine($"      {model.VisionModelPath}: image {config.Vision.ImageSize}², tokens [{config.Vision.TokenCount}, {config.Vision.Width}], embedding [{config.EmbedDim}]");

        Step("3/7", $"generating {classCount}×{perClass} labelled images");
        var files = SyntheticImageDataset.Generate(Path.Combine(workDir, "data"), classCount, perClass, seed: seed);
        Console.WriteLine($"      {Path.Combine(workDir, "data")}: {string.Join(", ", files.Select(f => f.Label).Distinct())}");

        Step("4/7", "featurizing them with the ML.NET pipeline");
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(files.Select(f => new ImageRow { Image = f.Path, Label = f.Label }));
        using var featurizer = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: "Image").Fit(data);
        var featurized = featurizer.Transform(data);
        var tokensType = (VectorDataViewType)featurized.Schema["Tokens"].Type;
        var rows = ml.Data.CreateEnumerable<FeatureRow>(featurized, reuseRowObject: false).ToList();
        Console.WriteLine($"      Tokens column: {tokensType}, Embedding column: {featurized.Schema["Embedding"].Type}, {rows.Count} rows");
        var first = rows[0];
        Console.WriteLine($"      {Path.GetFileName(files[0].Path)}: embedding[0..4] = {string.Join(", ", first.Embedding.Take(4).Select(x => x.ToString("F4")))}");

        var saved = Path.Combine(workDir, "featurizer.zip");
        ml.Model.SaveCoCa(featurizer, data.Schema, saved);
        var reloaded = new MLContext(seed).Model.LoadCoCa(saved, out _);
        var again = ml.Data.CreateEnumerable<FeatureRow>(reloaded.Transform(ml.Data.TakeRows(data, 1)), reuseRowObject: false).First();
        Console.WriteLine($"      saved {saved} ({new FileInfo(saved).Length / 1024} KiB); reloaded features identical: {again.Embedding.SequenceEqual(first.Embedding)}");

        // Hold out every fourth image of each class; train on the rest.
        var examples = files.Select(f => new LabeledExample(f.Path, f.Label)).ToList();
        var test = examples.Where((_, i) => i % 4 == 3).ToList();
        var train = examples.Where((_, i) => i % 4 != 3).ToList();
        Step("5/7", $"training an attentional pooler on the frozen tokens of {train.Count} images (coca train)");
        TrainCommand.PrintTrainerLog(ml, Console.Out, indent: "      ");
        // The encoder is random, so its tokens carry little shape information: expect well above chance, not a high score.
        var options = new AttentionalPoolerOptions { NumberOfEpochs = 60, BatchSize = 16, LearningRate = 1e-2, Seed = seed, EarlyStoppingPatience = 10 };
        var pipeline = PoolerPipeline.Train(ml, model.Directory, train, video: false, frames: 1, options);
        var summary = PoolerPipeline.Describe(pipeline, "the demo pipeline");

        Step("6/7", $"evaluating on {test.Count} held-out images (coca evaluate; the encoder is random, so modest accuracy is expected)");
        var metrics = PoolerPipeline.Evaluate(ml, pipeline, summary, test, out _);
        using (var report = new StringWriter())
        {
            ClassificationReport.Print(report, metrics, summary.Classes, test.Count);
            foreach (var line in report.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) Console.WriteLine("      " + line.TrimEnd());
        }

        Step("7/7", "saving the whole pipeline as one file, reloading it and predicting (coca predict)");
        var pipelinePath = Path.Combine(workDir, "classifier.zip");
        PoolerPipeline.Save(ml, pipeline, pipelinePath);
        var loaded = new MLContext(seed).Model.LoadCoCa(pipelinePath, out _);
        var samples = test.Where((_, i) => i % Math.Max(1, test.Count / 3) == 0).Take(3).ToList();
        var before = PoolerPipeline.Predict(ml, pipeline, samples.Select(s => s.Path).ToList()).ToList();
        var after = PoolerPipeline.Predict(ml, loaded, samples.Select(s => s.Path).ToList()).ToList();
        Console.WriteLine($"      saved {pipelinePath} ({new FileInfo(pipelinePath).Length / 1024} KiB); reloaded predictions identical: {before.SequenceEqual(after)}");
        foreach (var ((path, label, probability, _), truth) in after.Zip(samples))
            Console.WriteLine($"      {Path.GetFileName(path)}: {label} ({probability:P1}), true class {truth.Label}");
        return 0;
    }

    private static void Step(string number, string text) => Console.WriteLine($"[{number}] {text}");

    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        public string Label { get; set; } = "";
        public float[] Embedding { get; set; } = [];
    }
}

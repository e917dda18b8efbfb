using CoCa.MLNet.Featurization;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Video;
using Microsoft.ML;

namespace CoCa.MLNet.Samples.VideoActionRecognition;

/// <summary>
/// Trains a video action classifier: F frames per video through the frozen CoCa image encoder ([F, T, D] tokens),
/// the multi-frame attentional pooler (with frame embeddings) on top; evaluate (loss.html, confusion.html), save.
/// Runs on generated motion videos with no arguments (needs ffmpeg).
/// </summary>
public static class Program
{

    public static int Main(string[] args) => SampleArguments.RunMain(args, "VideoActionRecognition", "train a video action classifier on frozen CoCa frame features",
        new Dictionary<string, string>
        {
            ["data"] = "folder with one sub-folder of videos per action (default: generated motion videos)",
            ["checkpoint"] = "open_clip CoCa checkpoint: hub folder, .safetensors or .bin (default: small random CoCa)",
            ["work"] = "output folder (default: <temp>/coca-mlnet-samples/video-action-recognition)",
            ["frames"] = "frames sampled per video (default 4)",
            ["epochs"] = "training epochs (default 25)",
            ["seed"] = "seed for the built-in data, split and training (default 0)",
        }, Run);

    private static void Run(SampleArguments arguments)
    {
        // Every option is checked before any work: a typo in --epochs fails now, not after featurizing.
        int seed = arguments.GetInt("seed", 0), frames = arguments.GetInt("frames", 4), epochs = arguments.GetInt("epochs", 25);
        string work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "video-action-recognition"));
        Directory.CreateDirectory(work);
        var ml = new MLContext(seed);

        string checkpoint = arguments.GetExistingPath("checkpoint")
            ?? SmallCoCa.WriteHubFolder(Path.Combine(work, "checkpoint"), SmallCoCa.Config(imageSize: 64, width: 64, layers: 2), seed);
        Console.WriteLine($"checkpoint: {checkpoint}");
        var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
        Console.WriteLine($"converted: {model.Directory} ({frames} frames × tokens [{model.Config.Vision.TokenCount}, {model.Config.Vision.Width}] per video)");

        List<LabelledInput> inputs;
        if (arguments.GetExistingPath("data") is { } data)
            inputs = ClassFolders.Read(data, videos: true);
        else
        {
            data = Path.Combine(work, "videos");
            var options = new MotionDatasetOptions { VideosPerClass = 12, FrameCount = 16, Seed = seed + 1 };
            using var bar = new ConsoleProgress("generating motion videos", options.Directions.Count);
            inputs = [];
            foreach (var (direction, i) in options.Directions.Select((d, i) => (d, i)))
            {
                // One direction at a time, so the bar moves; the files are those of one call with all directions.
                inputs.AddRange(VideoDatasetGenerator.GenerateMotionDataset(data, options with { Directions = [direction] })
                    .Select(v => new LabelledInput { Path = v.Path, Label = v.Label }));
                bar.Report(i + 1);
            }
        }
        Console.WriteLine($"data: {data}: {inputs.Count} videos, actions {string.Join(", ", inputs.Select(i => i.Label).Distinct())}");

        var (trainInputs, testInputs) = InputSplit.Split(ml, inputs, seed);
        var featurizer = ml.Transforms.ExtractCoCaVideoFeatures(model.Directory, inputColumnName: nameof(LabelledInput.Path), frameCount: frames, embeddingColumnName: null).Fit(trainInputs.Data);
        var train = FeatureTable.Compute(ml, featurizer, trainInputs.Data, trainInputs.Count, "training videos");
        var test = FeatureTable.Compute(ml, featurizer, testInputs.Data, testInputs.Count, "test videos");

        var trained = PoolerTraining.Train(ml, train, new AttentionalPoolerOptions
        {
            NumberOfEpochs = epochs,
            BatchSize = 8,
            NumberOfQueries = 4,
            LearningRate = 3e-3,
            ValidationFraction = 0,
            Seed = seed,
        });
        PoolerTraining.Report(ml, trained, test, work);

        var saved = Path.Combine(work, "action-classifier.zip");
        // Its input is the path alone: it scores new, unlabelled videos.
        ml.Model.SaveCoCa(featurizer.Append(trained.Model), InputSplit.PathSchema(ml), saved);
        Console.WriteLine($"model: {saved} (video path in (column Path), class name out (PredictedLabel); load with mlContext.Model.LoadCoCa)");
    }
}

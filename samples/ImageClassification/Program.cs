using CoCa.MLNet.Featurization;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;

namespace CoCa.MLNet.Samples.ImageClassification;

/// <summary>
/// Trains an image classifier on frozen CoCa features: checkpoint → ONNX → featurize → attentional pooler →
/// evaluate (loss.html, confusion.html) → one saved model file. Runs on built-in data with no arguments.
/// </summary>
public static class Program
{

    public static int Main(string[] args) => SampleArguments.RunMain(args, "ImageClassification", "train an image classifier on frozen CoCa features",
        new Dictionary<string, string>
        {
            ["data"] = "folder with one sub-folder of images per class (default: generated pictures, one folder per place of the shape)",
            ["checkpoint"] = "open_clip CoCa checkpoint: hub folder, .safetensors or .bin (default: the tiny CoCa trained from scratch on generated captioned pictures, cached)",
            ["work"] = "output folder (default: <temp>/coca-mlnet-samples/image-classification)",
            ["epochs"] = "maximum training epochs (default 25)",
            ["seed"] = "seed for the built-in data, split and training (default 0)",
        }, Run);

    private static void Run(SampleArguments arguments)
    {
        // Every option is checked before any work: a typo in --epochs fails now, not after featurizing.
        int seed = arguments.GetInt("seed", 0), epochs = arguments.GetInt("epochs", 25);
        string work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "image-classification"));
        Directory.CreateDirectory(work);
        var ml = new MLContext(seed);

        // Without --checkpoint: the tiny CoCa trained from scratch on captioned pictures (trained once, then cached).
        string checkpoint = arguments.GetExistingPath("checkpoint") ?? TinyCoCa.Get(log: Console.WriteLine).HubFolder;
        Console.WriteLine($"checkpoint: {checkpoint}");
        var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
        Console.WriteLine($"converted: {model.Directory} ({model.Config.Vision.ImageSize}px images → tokens [{model.Config.Vision.TokenCount}, {model.Config.Vision.Width}])");

        string data = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
        // Without --data: new generated pictures, one sub-folder per place of the shape (left, right, top, bottom).
        if (arguments.Get("data") is null) TinyCoCa.PicturesByClass(data, "place", count: 320, seed: seed + 10);
        var inputs = ClassFolders.Read(data);
        Console.WriteLine($"data: {data}: {inputs.Count} images, classes {string.Join(", ", inputs.Select(i => i.Label).Distinct())}");

        var (trainInputs, testInputs) = InputSplit.Split(ml, inputs, seed);
        var featurizer = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: nameof(LabelledInput.Path), embeddingColumnName: null).Fit(trainInputs.Data);
        var train = FeatureTable.Compute(ml, featurizer, trainInputs.Data, trainInputs.Count, "training images");
        var test = FeatureTable.Compute(ml, featurizer, testInputs.Data, testInputs.Count, "test images");

        var trained = PoolerTraining.Train(ml, train, new AttentionalPoolerOptions
        {
            NumberOfEpochs = epochs,
            BatchSize = 16,
            LearningRate = 3e-3,
            ValidationFraction = 0.2,
            Seed = seed,
        });
        PoolerTraining.Report(ml, trained, test, work);

        var saved = Path.Combine(work, "image-classifier.zip");
        // Its input is the path alone: it scores new, unlabelled images (the ASP.NET sample serves the image classifier).
        ml.Model.SaveCoCa(featurizer.Append(trained.Model), InputSplit.PathSchema(ml), saved);
        Console.WriteLine($"model: {saved} (image path in (column Path), class name out (PredictedLabel); load with mlContext.Model.LoadCoCa)");
    }
}

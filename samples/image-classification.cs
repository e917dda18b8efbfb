#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project ../src/CoCa.MLNet.Training/CoCa.MLNet.Training.csproj
#:project ../src/CoCa.MLNet.Demo/CoCa.MLNet.Demo.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// The image-classification notebook as a C# file-based app: `dotnet run samples/image-classification.cs`
// (through ./dotnetw on hosts whose libstdc++ is older than GCC 13's). Options: --checkpoint <open_clip hub folder>,
// --data <one sub-folder per class>, --work <output folder>. Writes loss.html and confusion.html there.
using CoCa.MLNet.Featurization;
using CoCa.MLNet;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

return SampleArguments.RunMain(args, "image-classification.cs", "the image-classification notebook as a file-based app",
    new Dictionary<string, string> { ["checkpoint"] = "open_clip hub folder", ["data"] = "one sub-folder per class", ["work"] = "output folder" }, arguments =>
{
    int seed = 0;
    var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "image-classification-walkthrough"));
    var ml = new MLContext(seed);

    // 1. The checkpoint: a Hugging Face hub folder of open_clip (open_clip_config.json + weights), or the tiny CoCa trained
    //    from scratch on generated captioned pictures (TinyCoCa.Get trains it once, then reuses it from a cache folder).
    var checkpoint = arguments.GetExistingPath("checkpoint") ?? TinyCoCa.Get(log: Console.WriteLine).HubFolder;

    // 2. Convert it to ONNX (coca.json + vision.onnx).
    var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
    Console.WriteLine($"model: {model.Directory}, tokens [{model.Config.Vision.TokenCount}, {model.Config.Vision.Width}]");

    // 3. The images: one sub-folder per class; new generated pictures, a folder per place of the shape, when none is given.
    var dataFolder = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
    if (arguments.Get("data") is null) TinyCoCa.PicturesByClass(dataFolder, "place", count: 320, seed: seed + 10);
    var images = ClassFolders.Read(dataFolder);
    var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(images), testFraction: 0.25, seed: seed);

    // 4. Featurize: Tokens [T, D] per image (open_clip preprocessing, batched ONNX Runtime).
    var featurizer = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: "Path", tokensColumnName: "Tokens", embeddingColumnName: null).Fit(split.TrainSet);

    // 5. Train the attentional pooler over the frozen tokens; each epoch reports its metrics.
    var history = new List<AttentionalPoolerProgress>();
    var options = new AttentionalPoolerOptions
    {
        NumberOfEpochs = 25,
        BatchSize = 16,
        LearningRate = 3e-3,
        ValidationFraction = 0.2,
        Seed = seed,
        Progress = new InlineProgress<AttentionalPoolerProgress>(p => { history.Add(p); Console.WriteLine(p); }),
    };
    var classifier = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(options))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
        .Fit(featurizer.Transform(split.TrainSet));
    Charts.Loss(history).Save(Path.Combine(work, "loss.html"));

    // 6. Evaluate on the held-out quarter.
    var scored = classifier.Transform(featurizer.Transform(split.TestSet));
    var metrics = ml.MulticlassClassification.Evaluate(scored);
    var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
    scored.Schema["Score"].GetSlotNames(ref slotNames);
    Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
    Charts.ConfusionMatrix(slotNames.DenseValues().Select(v => v.ToString()).ToArray(), metrics.ConfusionMatrix.Counts, "Confusion matrix (test images)")
        .Save(Path.Combine(work, "confusion.html"));

    // 7. Save featurizer + classifier as one file; a fresh MLContext loads it and scores image paths.
    var saved = Path.Combine(work, "image-classifier.zip");
    ml.Model.SaveCoCa(featurizer.Append(classifier), split.TrainSet.Schema, saved);
    var loaded = new MLContext().Model.LoadCoCa(saved, out _);
    var first = ml.Data.CreateEnumerable<Prediction>(loaded.Transform(ml.Data.TakeRows(split.TestSet, 1)), reuseRowObject: false).Single();
    Console.WriteLine($"saved {saved}; reloaded, it predicts '{first.PredictedClass}' for {Path.GetFileName(first.Path)} (in folder '{Path.GetFileName(Path.GetDirectoryName(first.Path))}')");
    Console.WriteLine($"charts: {Path.Combine(work, "loss.html")}, {Path.Combine(work, "confusion.html")}");
});

sealed class Prediction
{
    public string Path { get; set; } = "";
    public string PredictedClass { get; set; } = "";
}

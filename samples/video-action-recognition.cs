#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project ../src/CoCa.MLNet.Training/CoCa.MLNet.Training.csproj
#:project ../src/CoCa.MLNet.Demo/CoCa.MLNet.Demo.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// The video-action-recognition notebook as a C# file-based app: `dotnet run samples/video-action-recognition.cs`
// (through ./dotnetw on hosts whose libstdc++ is older than GCC 13's; ffmpeg on the PATH). Options: --checkpoint
// <open_clip hub folder>, --data <one sub-folder of videos per action>, --work <output folder>.
using CoCa.MLNet.Featurization;
using CoCa.MLNet;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Video;
using Microsoft.ML;
using Microsoft.ML.Data;

return SampleArguments.RunMain(args, "video-action-recognition.cs", "the video notebook as a file-based app",
    new Dictionary<string, string> { ["checkpoint"] = "open_clip hub folder", ["data"] = "one sub-folder of videos per action", ["work"] = "output folder" }, arguments =>
{
    int seed = 0, frameCount = 4;
    var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "video-walkthrough"));
    var ml = new MLContext(seed);

    // 1. Checkpoint (a small random CoCa unless --checkpoint) → ONNX.
    var checkpoint = arguments.GetExistingPath("checkpoint")
        ?? SmallCoCa.WriteHubFolder(Path.Combine(work, "checkpoint"), SmallCoCa.Config(imageSize: 64, width: 64, layers: 2), seed);
    var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));

    // 2. Videos: one sub-folder per action; generated motion videos (a square moving left/right/up/down) when none is given.
    var videos = arguments.GetExistingPath("data") is { } data
        ? ClassFolders.Read(data, videos: true)
        : VideoDatasetGenerator.GenerateMotionDataset(Path.Combine(work, "videos"), new MotionDatasetOptions { VideosPerClass = 12, Seed = seed + 1 })
            .Select(v => new LabelledInput { Path = v.Path, Label = v.Label }).ToList();
    var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(videos), testFraction: 0.25, seed: seed);

    // 3. Featurize: frameCount frames sampled uniformly by ffmpeg, each through the image encoder → Tokens [F, T, D].
    var featurizer = ml.Transforms.ExtractCoCaVideoFeatures(model.Directory, inputColumnName: "Path", frameCount: frameCount, embeddingColumnName: null).Fit(split.TrainSet);

    // 4. The multi-frame attentional pooler: queries over all frames' tokens, with learned frame embeddings.
    var history = new List<AttentionalPoolerProgress>();
    var classifier = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions
        {
            NumberOfEpochs = 25,
            BatchSize = 8,
            NumberOfQueries = 4,
            LearningRate = 3e-3,
            ValidationFraction = 0,
            Seed = seed,
            Progress = new InlineProgress<AttentionalPoolerProgress>(p => { history.Add(p); Console.WriteLine(p); }),
        }))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
        .Fit(featurizer.Transform(split.TrainSet));
    Charts.Loss(history, "Multi-frame pooler training").Save(Path.Combine(work, "loss.html"));

    // 5. Evaluate on the held-out videos, then save the whole pipeline (video path in, action out).
    var scored = classifier.Transform(featurizer.Transform(split.TestSet));
    var metrics = ml.MulticlassClassification.Evaluate(scored);
    var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
    scored.Schema["Score"].GetSlotNames(ref slotNames);
    Charts.ConfusionMatrix(slotNames.DenseValues().Select(v => v.ToString()).ToArray(), metrics.ConfusionMatrix.Counts, "Confusion matrix (test videos)")
        .Save(Path.Combine(work, "confusion.html"));
    Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
    ml.Model.SaveCoCa(featurizer.Append(classifier), split.TrainSet.Schema, Path.Combine(work, "action-classifier.zip"));
    Console.WriteLine($"saved {Path.Combine(work, "action-classifier.zip")}; charts: {Path.Combine(work, "loss.html")}, {Path.Combine(work, "confusion.html")}");
});

// Records each epoch as it ends (Progress<T> would report later, on the thread pool).

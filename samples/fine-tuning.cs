#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project ../src/CoCa.MLNet.Training/CoCa.MLNet.Training.csproj
#:project ../src/CoCa.MLNet.Demo/CoCa.MLNet.Demo.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// Frozen features or fine-tuning? A C# file-based app: `dotnet run samples/fine-tuning.cs` (through ./dotnetw on hosts
// whose libstdc++ is older than GCC 13's). It trains the same classifier twice on the same images: a new attentional
// pooler over the frozen encoder's tokens (the paper's "frozen" protocol), and the encoder fine-tuned together with a
// new pooler ("finetuned"), both with their defaults, and prints both test accuracies.
// Options: --checkpoint <open_clip hub folder>, --data <one sub-folder per class>, --work <output folder>,
//          --trainable-blocks <N> (only the top N encoder blocks train; default all).
using CoCa.MLNet.Featurization;
using CoCa.MLNet;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Samples;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

return SampleArguments.RunMain(args, "fine-tuning.cs", "frozen features vs fine-tuning, on the same images",
    new Dictionary<string, string>
    {
        ["checkpoint"] = "open_clip hub folder", ["data"] = "one sub-folder per class", ["work"] = "output folder",
        ["trainable-blocks"] = "top encoder blocks that train (default: all)",
    }, arguments =>
{
    int seed = 0;
    var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "fine-tuning-walkthrough"));
    int? trainableBlocks = arguments.Get("trainable-blocks") is null ? null : arguments.GetInt("trainable-blocks", 0);
    var ml = new MLContext(seed);

    // 1. The checkpoint (open_clip hub folder) and the images (one sub-folder per class). Built in: a domain shift. The
    //    walkthroughs' tiny CoCa, made colour-blind (its patch embedding sees only the mean of R, G and B, as an encoder
    //    pretrained on greyscale pictures would: GreyscaleEncoder), asked for the colour of pictures. Its frozen tokens
    //    barely tell red from green; fine-tuning lets the encoder learn to see them.
    bool builtIn = arguments.Get("checkpoint") is null;
    var checkpoint = arguments.GetExistingPath("checkpoint")
        ?? GreyscaleEncoder.Copy(TinyCoCa.Get(log: Console.WriteLine).HubFolder, Path.Combine(work, "greyscale-tiny-coca"));
    var dataFolder = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
    if (arguments.Get("data") is null) TinyCoCa.PicturesByClass(dataFolder, "colour", count: 400, seed: seed + 20);
    if (builtIn) Console.WriteLine($"built-in task: the colour of {dataFolder}'s pictures, for the tiny CoCa made colour-blind ({checkpoint})");
    var images = ClassFolders.Read(dataFolder);
    var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(images), testFraction: 0.25, seed: seed);
    var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(split.TrainSet);
    var train = toKey.Transform(split.TrainSet);
    var test = toKey.Transform(split.TestSet);

    // 3. Frozen: featurize with the converted encoder, train a new pooler on its tokens.
    var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var frozen = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: "Path", embeddingColumnName: null)
        .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { Seed = seed }))
        .Fit(train);
    var frozenMetrics = ml.MulticlassClassification.Evaluate(frozen.Transform(test));
    Console.WriteLine($"frozen encoder + new pooler: test accuracy {frozenMetrics.MicroAccuracy:P1} ({clock.Elapsed.TotalSeconds:F0} s)");

    // 4. Fine-tuned: the encoder from the checkpoint trains with a new pooler (all blocks, or the top N).
    clock.Restart();
    var fineTuned = ml.MulticlassClassification.Trainers.FineTunedCoCa(new FineTunedCoCaOptions
    {
        Checkpoint = checkpoint,
        InputColumnName = "Path",
        TrainableBlocks = trainableBlocks,
        Seed = seed,
        Progress = new InlineProgress<AttentionalPoolerProgress>(p => { if (p.Epoch % 5 == 0 || p.IsBest) Console.WriteLine("  " + p); }),
    }).Fit(train);
    var fineTunedMetrics = ml.MulticlassClassification.Evaluate(fineTuned.Transform(test));
    Console.WriteLine($"fine-tuned encoder + new pooler: test accuracy {fineTunedMetrics.MicroAccuracy:P1} ({clock.Elapsed.TotalSeconds:F0} s)");

    // 5. The fine-tuned model scores with ONNX Runtime alone (its encoder was written as a new vision ONNX model): save it
    //    as one file, for `coca predict`, `coca evaluate` or an ASP.NET service.
    var saved = Path.Combine(work, "fine-tuned-classifier.zip");
    var toLabel = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(fineTuned.Transform(train));
    ml.Model.SaveCoCa(new TransformerChain<ITransformer>(toKey, fineTuned, toLabel), split.TrainSet.Schema, saved);
    Console.WriteLine($"saved {saved}");
});

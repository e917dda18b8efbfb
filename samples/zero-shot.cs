#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project ../src/CoCa.MLNet.Demo/CoCa.MLNet.Demo.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// The zero-shot notebook as a C# file-based app: `dotnet run samples/zero-shot.cs`. Options: --checkpoint <open_clip
// hub folder with the text tower> and --vocab <bpe_simple_vocab_16e6.txt.gz>, --data <one sub-folder per class, named
// after the class>, --work <output folder>. Without them: the tiny CoCa trained from scratch on generated captioned
// pictures (trained once, then cached), naming the colour of new pictures.
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Samples;
using Microsoft.ML;

return SampleArguments.RunMain(args, "zero-shot.cs", "the zero-shot notebook as a file-based app",
    new Dictionary<string, string> { ["checkpoint"] = "open_clip hub folder", ["vocab"] = "CLIP vocabulary", ["data"] = "one sub-folder per class", ["work"] = "output folder" }, arguments =>
{
    var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "zero-shot-walkthrough"));
    var ml = new MLContext(0);

    // 1. A checkpoint with its text tower → vision.onnx + text.onnx. Without one: the tiny CoCa (TinyCoCa.Get trains it once).
    TinyCoCaModel? tiny = arguments.Get("checkpoint") is null ? TinyCoCa.Get(log: Console.WriteLine) : null;
    var checkpoint = arguments.GetExistingPath("checkpoint") ?? tiny!.HubFolder;
    var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));

    // 2. The CLIP vocabulary: open_clip's bpe_simple_vocab_16e6.txt.gz for a real checkpoint, the tiny CoCa's own otherwise.
    var vocab = arguments.GetExistingPath("vocab") ?? tiny?.VocabularyPath ?? throw new ArgumentException("--vocab bpe_simple_vocab_16e6.txt.gz is needed with --checkpoint");

    // 3. Images, one sub-folder per class; the folder names are the class names. Built-in: new pictures, a folder per colour,
    //    and prompts written like the tiny CoCa's captions ("a red circle on the left"), averaged per class.
    var dataFolder = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
    if (arguments.Get("data") is null) TinyCoCa.PicturesByClass(dataFolder, "colour", count: 64, seed: 2);
    var inputs = ClassFolders.Read(dataFolder);
    var classNames = inputs.Select(i => i.Label).Distinct().ToArray();
    var templates = tiny is not null && arguments.Get("data") is null ? TinyCoCa.Prompts("colour") : CoCaZeroShotTemplates.Default;
    var images = ml.Data.LoadFromEnumerable(inputs);

    // 4. Image embedding → CoCaZeroShot over the class names → class name.
    var zeroShot = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: "Path", tokensColumnName: null, embeddingColumnName: "Embedding")
        .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(model.Directory, vocab, classNames, templates))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
        .Fit(images);
    var predictions = ml.Data.CreateEnumerable<Prediction>(zeroShot.Transform(images), reuseRowObject: false).ToList();

    // 5. Accuracy, confusion matrix (HTML), and the pipeline saved as one file.
    var counts = classNames.Select(t => (IReadOnlyList<double>)classNames.Select(p => (double)predictions.Count(r => r.Label == t && r.PredictedClass == p)).ToArray()).ToList();
    Console.WriteLine($"zero-shot accuracy {predictions.Count(p => p.Label == p.PredictedClass) / (double)predictions.Count:P1} on {predictions.Count} images (chance {1.0 / classNames.Length:P0})");
    Charts.ConfusionMatrix(classNames, counts, "Zero-shot confusion matrix").Save(Path.Combine(work, "confusion.html"));
    ml.Model.SaveCoCa(zeroShot, images.Schema, Path.Combine(work, "zero-shot.zip"));
    Console.WriteLine($"chart: {Path.Combine(work, "confusion.html")}; model: {Path.Combine(work, "zero-shot.zip")}");
});

sealed class Prediction
{
    public string Label { get; set; } = "";
    public string PredictedClass { get; set; } = "";
}

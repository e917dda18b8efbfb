#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// The zero-shot notebook as a C# file-based app: `dotnet run samples/zero-shot.cs`. Options: --checkpoint <open_clip
// hub folder with the text tower> and --vocab <bpe_simple_vocab_16e6.txt.gz>, --data <one sub-folder per class, named
// after the class>, --work <output folder>. Without them: a small random CoCa (chance-level results) on generated shapes.
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Samples;
using Microsoft.ML;

var arguments = SampleArguments.Parse(args, "zero-shot.cs", "the zero-shot notebook as a file-based app",
    new Dictionary<string, string> { ["checkpoint"] = "open_clip hub folder", ["vocab"] = "CLIP vocabulary", ["data"] = "one sub-folder per class", ["work"] = "output folder" });
if (arguments.HelpRequested) { Console.Write(arguments.Usage); return; }
var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "zero-shot-walkthrough"));
var ml = new MLContext(0);

// 1. A checkpoint with its text tower → vision.onnx + text.onnx.
var checkpoint = arguments.GetExistingPath("checkpoint") ?? SmallCoCa.WriteHubFolder(Path.Combine(work, "checkpoint"), SmallCoCa.Config(), seed: 0);
var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));

// 2. The CLIP vocabulary (a byte-level stand-in for the random model).
var vocab = arguments.GetExistingPath("vocab") ?? ByteLevelVocabulary.Write(Path.Combine(work, "vocab"));

// 3. Images, one sub-folder per class; the folder names become the prompts "a photo of a {class}.".
var dataFolder = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
if (arguments.Get("data") is null) SyntheticImageDataset.Generate(dataFolder, classCount: 3, perClass: 10);
var inputs = LabelledFolder.Read(dataFolder, [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"]);
var classNames = inputs.Select(i => i.Label).Distinct().ToArray();
var images = ml.Data.LoadFromEnumerable(inputs);

// 4. Image embedding → CoCaZeroShot over the class names → class name.
var zeroShot = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: "Path", tokensColumnName: null, embeddingColumnName: "Embedding")
    .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(model.Directory, vocab, classNames))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
    .Fit(images);
var predictions = ml.Data.CreateEnumerable<Prediction>(zeroShot.Transform(images), reuseRowObject: false).ToList();

// 5. Accuracy, confusion matrix (HTML), and the pipeline saved as one file.
var counts = classNames.Select(t => (IReadOnlyList<double>)classNames.Select(p => (double)predictions.Count(r => r.Label == t && r.PredictedClass == p)).ToArray()).ToList();
Console.WriteLine($"zero-shot accuracy {predictions.Count(p => p.Label == p.PredictedClass) / (double)predictions.Count:P1} on {predictions.Count} images (chance {1.0 / classNames.Length:P0})");
Charts.ConfusionMatrix(classNames, counts, "Zero-shot confusion matrix").Save(Path.Combine(work, "confusion.html"));
ml.Model.SaveCoCa(zeroShot, images.Schema, Path.Combine(work, "zero-shot.zip"));
Console.WriteLine($"chart: {Path.Combine(work, "confusion.html")}; model: {Path.Combine(work, "zero-shot.zip")}");

sealed class Prediction
{
    public string Label { get; set; } = "";
    public string PredictedClass { get; set; } = "";
}

using CoCa.MLNet.Conversion;
using Microsoft.ML;

namespace CoCa.MLNet.Samples.ZeroShot;

/// <summary>
/// Zero-shot image classification: no training; each class is the text embedding of "a photo of a {class}." and
/// each image goes to the class whose embedding is closest. Class names are the data's sub-folder names. Writes
/// confusion.html and the saved pipeline. Runs on built-in data with no arguments.
/// </summary>
public static class Program
{
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public static int Main(string[] args) => SampleArguments.RunMain(args, "ZeroShot", "zero-shot image classification with CoCa's text tower",
        new Dictionary<string, string>
        {
            ["data"] = "folder with one sub-folder of images per class; the folder names are the class names (default: generated shapes)",
            ["checkpoint"] = "open_clip CoCa checkpoint with its text tower: hub folder, .safetensors or .bin (default: small random CoCa)",
            ["vocab"] = "CLIP vocabulary: bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt (default: a byte-level one, for the random CoCa)",
            ["work"] = "output folder (default: <temp>/coca-mlnet-samples/zero-shot)",
        }, Run);

    private static void Run(SampleArguments arguments)
    {
        string work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "zero-shot"));
        Directory.CreateDirectory(work);
        var ml = new MLContext(0);

        string checkpoint = arguments.GetExistingPath("checkpoint") ?? SmallCoCa.WriteHubFolder(Path.Combine(work, "checkpoint"), SmallCoCa.Config(), seed: 0);
        var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
        if (!model.HasText) throw new InvalidDataException($"Checkpoint '{checkpoint}' has no text tower (text.*), which zero-shot classification needs.");
        string vocab = arguments.GetExistingPath("vocab")
            ?? (arguments.Get("checkpoint") is null
                ? ByteLevelVocabulary.Write(Path.Combine(work, "vocab"))
                : throw new ArgumentException("A real checkpoint needs its CLIP vocabulary: --vocab bpe_simple_vocab_16e6.txt.gz (from open_clip)."));
        Console.WriteLine($"model: {model.Directory} (vision + text), vocabulary: {vocab}");

        string data = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
        if (arguments.Get("data") is null) SyntheticImageDataset.Generate(data, classCount: 3, perClass: 10);
        var inputs = LabelledFolder.Read(data, ImageExtensions);
        var classes = inputs.Select(i => i.Label).Distinct().ToArray();
        Console.WriteLine($"data: {data}: {inputs.Count} images; prompts: {string.Join(", ", classes.Select(c => $"\"a photo of a {c}.\""))}");

        var images = ml.Data.LoadFromEnumerable(inputs);
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: nameof(LabelledInput.Path), tokensColumnName: null, embeddingColumnName: "Embedding")
            .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(model.Directory, vocab, classes))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
            .Fit(images);

        var counts = classes.Select(_ => new double[classes.Length]).ToArray();
        using (var bar = new ConsoleProgressBar("classifying", inputs.Count))
        {
            int done = 0;
            foreach (var row in ml.Data.CreateEnumerable<Prediction>(pipeline.Transform(images), reuseRowObject: false))
            {
                counts[Array.IndexOf(classes, row.Label)][Array.IndexOf(classes, row.PredictedClass)]++;
                bar.Report(++done);
            }
        }
        double correct = Enumerable.Range(0, classes.Length).Sum(i => counts[i][i]);
        Console.WriteLine($"zero-shot accuracy {correct / inputs.Count:P1} ({correct}/{inputs.Count}){(arguments.Get("checkpoint") is null ? " — random weights: expect chance level" : "")}");
        var confusion = Charts.ConfusionMatrix(classes, counts, "Zero-shot confusion matrix").Save(Path.Combine(work, "confusion.html"));
        var saved = Path.Combine(work, "zero-shot.zip");
        ml.Model.SaveCoCa(pipeline, images.Schema, saved);
        Console.WriteLine($"chart: {confusion}\nmodel: {saved} (image path in, PredictedClass out)");
    }

    private sealed class Prediction
    {
        public string Label { get; set; } = "";
        public string PredictedClass { get; set; } = "";
    }
}

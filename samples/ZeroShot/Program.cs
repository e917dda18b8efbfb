using CoCa.MLNet.Featurization;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Scoring;
using Microsoft.ML;

namespace CoCa.MLNet.Samples.ZeroShot;

/// <summary>
/// Zero-shot image classification: no training; each class is the text embedding of "a photo of a {class}." and
/// each image goes to the class whose embedding is closest. Class names are the data's sub-folder names. Writes
/// confusion.html and the saved pipeline. Runs on built-in data with no arguments.
/// </summary>
public static class Program
{

    public static int Main(string[] args) => SampleArguments.RunMain(args, "ZeroShot", "zero-shot image classification with CoCa's text tower",
        new Dictionary<string, string>
        {
            ["data"] = "folder with one sub-folder of images per class; the folder names are the class names (default: generated pictures, one folder per colour)",
            ["checkpoint"] = "open_clip CoCa checkpoint with its text tower: hub folder, .safetensors or .bin (default: the tiny CoCa trained from scratch on generated captioned pictures, cached)",
            ["vocab"] = "CLIP vocabulary: bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt (default: the tiny CoCa's own)",
            ["work"] = "output folder (default: <temp>/coca-mlnet-samples/zero-shot)",
        }, Run);

    private static void Run(SampleArguments arguments)
    {
        string work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "zero-shot"));
        Directory.CreateDirectory(work);
        var ml = new MLContext(0);

        // Without --checkpoint: the tiny CoCa trained from scratch on captioned pictures (trained once, then cached).
        TinyCoCaModel? tiny = arguments.Get("checkpoint") is null ? TinyCoCa.Get(log: Console.WriteLine) : null;
        string checkpoint = arguments.GetExistingPath("checkpoint") ?? tiny!.HubFolder;
        var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
        if (!model.HasText) throw new InvalidDataException($"Checkpoint '{checkpoint}' has no text tower (text.*), which zero-shot classification needs.");
        string vocab = arguments.GetExistingPath("vocab")
            ?? tiny?.VocabularyPath
            ?? throw new ArgumentException("A real checkpoint needs its CLIP vocabulary: --vocab bpe_simple_vocab_16e6.txt.gz (from open_clip).");
        Console.WriteLine($"model: {model.Directory} (vision + text), vocabulary: {vocab}");

        // Without --data: held-out pictures (not the tiny CoCa's training ones), one sub-folder per colour.
        string data = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
        if (arguments.Get("data") is null) TinyCoCa.PicturesByClass(data, "colour", count: 64, seed: 2);
        var inputs = ClassFolders.Read(data);
        var classes = inputs.Select(i => i.Label).Distinct().ToArray();
        // The tiny CoCa's captions read "a red circle on the left": its prompts are such captions, averaged per class.
        var templates = tiny is not null && arguments.Get("data") is null ? TinyCoCa.Prompts("colour") : CoCaZeroShotTemplates.Default;
        Console.WriteLine($"data: {data}: {inputs.Count} images; prompts ({templates.Count} per class): {string.Join(", ", classes.Select(c => $"\"{CoCaZeroShotTemplates.Apply(templates[0], c)}\""))}");

        var images = ml.Data.LoadFromEnumerable(inputs);
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(model.Directory, inputColumnName: nameof(LabelledInput.Path), tokensColumnName: null, embeddingColumnName: "Embedding")
            .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(model.Directory, vocab, classes, templates))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
            .Fit(images);

        var counts = classes.Select(_ => new double[classes.Length]).ToArray();
        using (var bar = new ConsoleProgress("classifying", inputs.Count))
        {
            int done = 0;
            foreach (var row in ml.Data.CreateEnumerable<Prediction>(pipeline.Transform(images), reuseRowObject: false))
            {
                counts[Array.IndexOf(classes, row.Label)][Array.IndexOf(classes, row.PredictedClass)]++;
                bar.Report(++done);
            }
        }
        double correct = Enumerable.Range(0, classes.Length).Sum(i => counts[i][i]);
        Console.WriteLine($"zero-shot accuracy {correct / inputs.Count:P1} ({correct}/{inputs.Count}; chance {1.0 / classes.Length:P1})");
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

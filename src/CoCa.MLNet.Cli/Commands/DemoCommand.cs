using CoCa.MLNet.Featurization;
using System.CommandLine;
using System.Globalization;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca demo</c>: what CoCa does, end to end, with no download. It trains a tiny CoCa from scratch with this project's
/// trainer (contrastive + captioning loss) on generated captioned pictures ("a red circle on the left") and converts it
/// to ONNX; then, on held-out pictures it never saw, it classifies colour and shape zero-shot through ML.NET, retrieves
/// pictures from captions and captions from pictures, writes captions with the ONNX caption decoder, and trains the
/// paper's attentional pooler on the frozen encoder's tokens (featurize, train, evaluate, save, reload, predict). Every
/// number is printed next to its chance level.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var work = new Option<string>("--work", "-w") { Description = "Folder for the demo's model, data and outputs", DefaultValueFactory = _ => "coca-demo" }
            .OutputFolder("the folder for the demo's model, data and outputs");
        var classes = new Option<int>("--classes") { Description = "Places (left, right, top, bottom) the attentional pooler learns to tell apart (2 to 4)", DefaultValueFactory = _ => 4 }
            .Between(2, 4, "the generated pictures have 4 places");
        var perClass = new Option<int>("--per-class") { Description = "Pictures per place for the attentional pooler (a quarter held out)", DefaultValueFactory = _ => 80 }
            .Between(4, int.MaxValue, "a quarter is held out");
        var seed = new Option<int>("--seed") { Description = "Seed for weights and data", DefaultValueFactory = _ => 0 }.AnyWholeNumber();
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16: train the tiny CoCa with bfloat16 matrix products on fp32 weights (fp32 where the CPU lacks bfloat16)", DefaultValueFactory = _ => "fp32" }
            .OneOf(["fp32", "bf16"]);
        var command = new Command("demo", "Train a tiny CoCa from scratch on generated captioned pictures, then show zero-shot classification, retrieval, captions and an attentional pooler on held-out pictures") { work, classes, perClass, seed, precision };
        command.SetAction(parse => Run(parse.GetValue(work)!, parse.GetValue(classes), parse.GetValue(perClass), parse.GetValue(seed),
            parse.GetValue(precision) == "bf16" ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32));
        return command;
    }

    private static int Run(string workDir, int classCount, int perClass, int seed, TrainingPrecision precision)
    {
        workDir = Path.GetFullPath(workDir);
        Directory.CreateDirectory(workDir);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var summary = new List<string>();
        void Result(string what, double value, double chance)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{what}: {value:P1} (chance {chance:P1})");
            summary.Add(line);
            Console.WriteLine("      " + line);
        }

        // 1. Train. The demo trains every run: training from scratch is what it shows (TinyCoCa.Get caches it for the walkthroughs).
        var recipe = new TinyCoCaRecipe { Seed = seed, DataSeed = seed + 1, Precision = precision };
        var tinyDir = Path.Combine(workDir, "tiny-coca");
        if (Directory.Exists(tinyDir)) Directory.Delete(tinyDir, recursive: true);
        Step("1/7", $"training a tiny CoCa from scratch ({TinyCoCa.Config.Name}: {TinyCoCa.ImageSize}² pictures; contrastive + captioning loss, {recipe.Epochs} epochs of {recipe.Pictures} captioned pictures)");
        var tiny = TinyCoCa.Train(tinyDir, recipe,
            new InlineProgress<CoCaFineTuneProgress>(p => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"      epoch {p.Epoch,2}/{p.Epochs}: loss {p.TotalLoss:F3} (contrastive {p.ContrastiveLoss:F3}, caption {p.CaptionLoss:F3}), {p.ExamplesPerSecond:F0} pairs/s, {clock.Elapsed:m\\:ss}"))),
            log: text => Console.WriteLine("      " + text));
        Console.WriteLine($"      trained in {tiny.TrainingSeconds:F0} s: {tiny.HubFolder} (open_clip hub layout), ONNX in {tiny.ModelFolder}");

        // 2. Held-out pictures, featurized through ML.NET; the featurizer saved and reloaded.
        var heldOut = TinyCoCa.HeldOutPictures(Path.Combine(workDir, "held-out"), count: 128, seed: seed + 2);
        Step("2/7", $"featurizing {heldOut.Count} held-out pictures with the ML.NET pipeline (ExtractCoCaImageFeatures)");
        var ml = new MLContext(seed);
        var images = ml.Data.LoadFromEnumerable(heldOut.Select(p => new PictureRow { Image = p.Path, Colour = p.Colour, Shape = p.Shape, Caption = p.Caption }));
        using var featurizer = ml.Transforms.ExtractCoCaImageFeatures(tiny.ModelFolder, inputColumnName: "Image").Fit(images);
        var featurized = featurizer.Transform(images);
        var rows = ml.Data.CreateEnumerable<FeatureRow>(featurized, reuseRowObject: false, ignoreMissingColumns: true).ToList();
        Console.WriteLine($"      Tokens column: {featurized.Schema["Tokens"].Type}, Embedding column: {featurized.Schema["Embedding"].Type}, {rows.Count} rows");
        var saved = Path.Combine(workDir, "featurizer.zip");
        ml.Model.SaveCoCa(featurizer, images.Schema, saved);
        var reloaded = new MLContext(seed).Model.LoadCoCa(saved, out _);
        var again = ml.Data.CreateEnumerable<FeatureRow>(reloaded.Transform(ml.Data.TakeRows(images, 1)), reuseRowObject: false, ignoreMissingColumns: true).First();
        Console.WriteLine($"      saved {saved} ({new FileInfo(saved).Length / 1024} KiB); reloaded features identical: {again.Embedding.SequenceEqual(rows[0].Embedding)}");

        // 3. Zero-shot: no training on labels; each class is the mean text embedding of captions naming it (prompt ensemble).
        Step("3/7", "zero-shot classification of the held-out pictures (CoCaZeroShot: closest class prompt, no labels used)");
        Result("zero-shot colour", ZeroShot(ml, tiny, images, "Colour", CaptionedPicturesDataset.Colours, TinyCoCa.Prompts("colour")), 0.25);
        Result("zero-shot shape", ZeroShot(ml, tiny, images, "Shape", CaptionedPicturesDataset.Shapes, TinyCoCa.Prompts("shape")), 0.25);

        // 4. Retrieval between the held-out pictures and all 64 captions the generator can write.
        Step("4/7", "retrieval (CoCaRetrieval): each picture's caption among all 64 captions, and each caption's pictures among the held-out ones");
        var captions = CaptionedPicturesDataset.AllCaptions().ToList();
        using var textModel = ml.Transforms.ExtractCoCaTextEmbedding(tiny.ModelFolder, tiny.VocabularyPath, inputColumnName: "Text", outputColumnName: "TextEmbedding")
            .Fit(ml.Data.LoadFromEnumerable(captions.Select(c => new TextRow { Text = c })));
        var textEmbeddings = CoCaRetrieval.ReadEmbeddings(textModel.Transform(ml.Data.LoadFromEnumerable(captions.Select(c => new TextRow { Text = c }))), "TextEmbedding");
        var imageEmbeddings = rows.Select(r => r.Embedding).ToList();
        // Recall as the library counts it: a candidate scoring as high as a right one ranks ahead of it (ties are never hits).
        Result("image→text recall@1", Mean(heldOut.Select((p, i) => Hit(imageEmbeddings[i], textEmbeddings, c => captions[c] == p.Caption, 1))), 1.0 / captions.Count);
        Result("image→text recall@5", Mean(heldOut.Select((p, i) => Hit(imageEmbeddings[i], textEmbeddings, c => captions[c] == p.Caption, 5))), 5.0 / captions.Count);
        var present = captions.Where(c => heldOut.Any(p => p.Caption == c)).ToList();
        Result("text→image recall@1", Mean(present.Select(c => Hit(textEmbeddings[captions.IndexOf(c)], imageEmbeddings, i => heldOut[i].Caption == c, 1))),
            present.Average(c => ChanceOfHit(heldOut.Count, heldOut.Count(p => p.Caption == c), 1)));
        Result("text→image recall@5", Mean(present.Select(c => Hit(textEmbeddings[captions.IndexOf(c)], imageEmbeddings, i => heldOut[i].Caption == c, 5))),
            present.Average(c => ChanceOfHit(heldOut.Count, heldOut.Count(p => p.Caption == c), 5)));

        // 5. Captions written by the ONNX caption decoder (ML.NET transformer, greedy decoding).
        Step("5/7", "captioning the held-out pictures with the ONNX caption decoder (GenerateCoCaCaption, greedy)");
        var captioner = ml.Transforms.GenerateCoCaCaption(tiny.ModelFolder, tiny.VocabularyPath, inputColumnName: "Image", outputColumnName: "Generated",
            new CaptionGenerationOptions { Decoding = CaptionDecoding.TopK, TopK = 1, MaxTokens = TinyCoCa.ContextLength }).Fit(images);
        var written = ml.Data.CreateEnumerable<CaptionRow>(captioner.Transform(images), reuseRowObject: false, ignoreMissingColumns: true).ToList();
        foreach (var row in written.Take(6)) Console.WriteLine($"      {Path.GetFileName(row.Image)}: \"{row.Generated}\"  (true: \"{row.Caption}\")");
        Result("captions naming the right colour", Mean(written.Select(r => Words(r.Generated).Contains(r.Colour))), 0.25);
        Result("captions naming the right shape", Mean(written.Select(r => Words(r.Generated).Contains(r.Shape))), 0.25);
        Result("captions exactly right", Mean(written.Select(r => r.Generated == r.Caption)), 1.0 / captions.Count);

        // 6. The frozen-feature protocol: a new attentional pooler on the trained encoder's tokens, to tell places apart.
        var places = CaptionedPicturesDataset.Places.Take(classCount).Select(PlaceName).ToArray();
        var poolerPictures = CaptionedPicturesDataset.Generate(Path.Combine(workDir, "places"), perClass * 4 * 2, size: TinyCoCa.ImageSize, seed: seed + 3)
            .Where(p => places.Contains(PlaceName(p.Place))).GroupBy(p => PlaceName(p.Place)).OrderBy(g => Array.IndexOf(places, g.Key))
            .SelectMany(g => g.Take(perClass)).ToList();
        var examples = poolerPictures.Select(p => new LabelledInput { Path = p.Path, Label = PlaceName(p.Place) }).ToList();
        var test = examples.Where((_, i) => i % 4 == 3).ToList();
        var train = examples.Where((_, i) => i % 4 != 3).ToList();
        Step("6/7", $"training an attentional pooler on the frozen tokens of {train.Count} pictures to tell where the shape is ({string.Join(", ", places)}) (coca train), evaluating on {test.Count} held-out ones (coca evaluate)");
        TrainCommand.PrintTrainerLog(ml, Console.Out, indent: "      ");
        var options = new AttentionalPoolerOptions { NumberOfEpochs = 25, BatchSize = 16, LearningRate = 3e-3, ValidationFraction = 0.2, Seed = seed };
        var pipeline = PoolerPipeline.Train(ml, tiny.ModelFolder, train, video: false, frames: 1, options);
        var description = PoolerPipeline.Describe(pipeline, "the demo pipeline");
        var metrics = PoolerPipeline.Evaluate(ml, pipeline, description, test, out _);
        using (var report = new StringWriter())
        {
            ClassificationReport.Print(report, metrics, description.Classes, test.Count);
            foreach (var line in report.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) Console.WriteLine("      " + line.TrimEnd());
        }
        Result("attentional pooler (place)", metrics.MicroAccuracy, 1.0 / places.Length);

        Step("7/7", "saving the whole pipeline as one file, reloading it and predicting (coca predict)");
        var pipelinePath = Path.Combine(workDir, "classifier.zip");
        PoolerPipeline.Save(ml, pipeline, pipelinePath);
        var loaded = new MLContext(seed).Model.LoadCoCa(pipelinePath, out _);
        var samples = test.Where((_, i) => i % Math.Max(1, test.Count / 3) == 0).Take(3).ToList();
        var before = PoolerPipeline.Predict(ml, pipeline, samples.Select(s => s.Path).ToList()).ToList();
        var after = PoolerPipeline.Predict(ml, loaded, samples.Select(s => s.Path).ToList()).ToList();
        Console.WriteLine($"      saved {pipelinePath} ({new FileInfo(pipelinePath).Length / 1024} KiB); reloaded predictions identical: {before.SequenceEqual(after)}");
        foreach (var ((path, label, probability, _), truth) in after.Zip(samples))
            Console.WriteLine($"      {Path.GetFileName(path)}: {label} ({probability:P1}), true place {truth.Label}");

        Console.WriteLine($"Summary, on held-out pictures (done in {clock.Elapsed:m\\:ss}):");
        foreach (var line in summary) Console.WriteLine("  " + line);
        return 0;
    }

    /// <summary>Zero-shot accuracy on <paramref name="images"/>: embedding → CoCaZeroShot over <paramref name="classes"/> → class name.</summary>
    private static double ZeroShot(MLContext ml, TinyCoCaModel tiny, IDataView images, string truthColumn, IReadOnlyList<string> classes, IReadOnlyList<string> templates)
    {
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(tiny.ModelFolder, inputColumnName: "Image", tokensColumnName: null)
            .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(tiny.ModelFolder, tiny.VocabularyPath, classes, templates))
            .Append(ml.Transforms.Conversion.MapKeyToValue("Predicted", "PredictedLabel"))
            .Append(ml.Transforms.CopyColumns("Truth", truthColumn))
            .Fit(images);
        var predictions = ml.Data.CreateEnumerable<ZeroShotRow>(pipeline.Transform(images), reuseRowObject: false, ignoreMissingColumns: true).ToList();
        var perClass = classes.Select(c => $"{c} {Mean(predictions.Where(p => p.Truth == c).Select(p => p.Predicted == c)):P0}");
        Console.WriteLine($"      {truthColumn.ToLowerInvariant()} ({templates.Count} prompts per class, e.g. \"{CoCaZeroShotTemplates.Apply(templates[0], classes[0])}\"): {string.Join(", ", perClass)}");
        return Mean(predictions.Select(p => p.Predicted == p.Truth));
    }

    /// <summary>
    /// Whether a right candidate (<paramref name="isRight"/>) is among the top <paramref name="k"/> by cosine: its rank is the
    /// number of wrong candidates scoring at least as high as the best right one, so a tie never counts as a hit.
    /// </summary>
    private static bool Hit(float[] query, IReadOnlyList<float[]> candidates, Func<int, bool> isRight, int k)
    {
        var scores = candidates.Select(c => EmbeddingMath.Cosine(query, c)).ToArray();
        double best = Enumerable.Range(0, scores.Length).Where(isRight).Max(i => scores[i]);
        return Enumerable.Range(0, scores.Length).Count(i => !isRight(i) && scores[i] >= best) < k;
    }

    private static double Mean(IEnumerable<bool> hits)
    {
        var list = hits.ToList();
        return list.Count == 0 ? 0 : list.Count(h => h) / (double)list.Count;
    }

    /// <summary>"on the left" → "left": the class name of a place.</summary>
    private static string PlaceName(string place) => place.Split(' ')[^1];

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Chance that k gallery items drawn at random include at least one of <paramref name="matches"/> among <paramref name="gallery"/>.</summary>
    private static double ChanceOfHit(int gallery, int matches, int k)
    {
        double none = 1;
        for (int i = 0; i < k; i++) none *= (double)(gallery - matches - i) / (gallery - i);
        return 1 - Math.Max(0, none);
    }

    private static void Step(string number, string text) => Console.WriteLine($"[{number}] {text}");

    private sealed class PictureRow
    {
        public string Image { get; set; } = "";
        public string Colour { get; set; } = "";
        public string Shape { get; set; } = "";
        public string Caption { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        public float[] Embedding { get; set; } = [];
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private sealed class ZeroShotRow
    {
        public string Truth { get; set; } = "";
        public string Predicted { get; set; } = "";
    }

    private sealed class CaptionRow
    {
        public string Image { get; set; } = "";
        public string Colour { get; set; } = "";
        public string Shape { get; set; } = "";
        public string Caption { get; set; } = "";
        public string Generated { get; set; } = "";
    }
}

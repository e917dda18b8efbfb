using CoCa.MLNet.Transforms;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Tests.Checkpoints;
using CoCa.MLNet.Tests.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Scoring;

public class ZeroShotTests(ITestOutputHelper output)
{
    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class ClassRow
    {
        public string Label { get; set; } = "";
    }

    private static IDataView Images(MLContext ml, AlignedCoCa model) =>
        ml.Data.LoadFromEnumerable(model.Images.Select(i => new ImageRow { Image = i.Path, Label = i.Label }));

    private static IEstimator<ITransformer> Pipeline(MLContext ml, AlignedCoCa model, string? modelDirectory = null) =>
        ml.Transforms.ExtractCoCaImageFeatures(modelDirectory ?? model.ModelDirectory, tokensColumnName: null)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label",
                keyData: ml.Data.LoadFromEnumerable(model.ClassNames.Select(c => new ClassRow { Label = c }))))
            .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(modelDirectory ?? model.ModelDirectory, Fixtures.ClipBpe, model.ClassNames, AlignedCoCa.Templates))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));

    private static string[] Strings(IDataView data, string column) =>
        data.GetColumn<ReadOnlyMemory<char>>(column).Select(m => m.ToString()).ToArray();

    [FixtureFact]
    public void ConstructedModelClassifiesEveryImageAndEvaluateGivesAccuracyOne()
    {
        using var dir = new TempDirectory();
        var model = AlignedCoCa.Create(dir.Path);
        output.WriteLine($"construction conditioning (min/max pivot): {model.Conditioning:E2}");
        Assert.True(model.Conditioning > 1e-6, $"features nearly dependent ({model.Conditioning:E2}); the construction is ill-posed");

        var ml = new MLContext(seed: 0);
        var data = Images(ml, model);
        // Schema propagation without data: MapKeyToValue needs PredictedLabel's KeyValues in the SchemaShape too.
        var inputShape = new SchemaShape(data.Schema.Select(c => SchemaShapes.Column(c.Name, SchemaShape.Column.VectorKind.Scalar, c.Type, false)));
        var shape = Pipeline(ml, model).GetOutputSchema(inputShape);
        Assert.Contains(shape, c => c.Name == "PredictedClass" && c.ItemType is TextDataViewType);
        Assert.Contains(shape, c => c.Name == "Score" && c.Kind == SchemaShape.Column.VectorKind.Vector);
        var fitted = Pipeline(ml, model).Fit(data);
        var scored = fitted.Transform(data);

        Assert.Equal(model.Images.Select(i => i.Label), Strings(scored, "PredictedClass"));
        var scoreColumn = scored.Schema["Score"];
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        scoreColumn.GetSlotNames(ref slotNames);
        Assert.Equal(model.ClassNames, slotNames.DenseValues().Select(s => s.ToString()));
        // ML.NET's multiclass contract, as the pooler's: both outputs in one score column set.
        uint scoreSet = 0, labelSet = 0;
        scoreColumn.Annotations.GetValue("ScoreColumnSetId", ref scoreSet);
        scored.Schema["PredictedLabel"].Annotations.GetValue("ScoreColumnSetId", ref labelSet);
        Assert.Equal(1u, scoreSet);
        Assert.Equal(scoreSet, labelSet);
        foreach (var (score, i) in scored.GetColumn<float[]>("Score").Select((s, i) => (s, i)))
        {
            int label = Array.IndexOf(model.ClassNames, model.Images[i].Label);
            Assert.True(score[label] > 0.999f, $"image {i}: P(own class) = {score[label]}");
            Assert.Equal(1.0, score.Sum(), 5);
        }

        var metrics = ml.MulticlassClassification.Evaluate(scored);
        output.WriteLine($"micro accuracy {metrics.MicroAccuracy}, macro accuracy {metrics.MacroAccuracy}, log-loss {metrics.LogLoss:E2}");
        Assert.Equal(1.0, metrics.MicroAccuracy);
        Assert.Equal(1.0, metrics.MacroAccuracy);
        Assert.True(metrics.LogLoss < 1e-3);

        // Control: the same trunks before the projections were set do not classify these images.
        var plain = ml.MulticlassClassification.Evaluate(Pipeline(ml, model, model.PlainModelDirectory).Fit(data).Transform(data));
        output.WriteLine($"unaligned control: micro accuracy {plain.MicroAccuracy:F3}");
        Assert.True(plain.MicroAccuracy < 0.9);

        // The same model with the class names in another order: scores follow the names, not their positions.
        var reversed = model.ClassNames.Reverse().ToArray();
        var classifier = ml.MulticlassClassification.Trainers.CoCaZeroShot(model.ModelDirectory, Fixtures.ClipBpe, reversed, AlignedCoCa.Templates)
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var features = ml.Transforms.ExtractCoCaImageFeatures(model.ModelDirectory, tokensColumnName: null).Fit(data).Transform(data);
        Assert.Equal(model.Images.Select(i => i.Label), Strings(classifier.Fit(features).Transform(features), "PredictedClass"));
    }

    [FixtureFact]
    public void SaveCoCaRoundTripsTheWholeZeroShotPipeline()
    {
        using var dir = new TempDirectory();
        var model = AlignedCoCa.Create(dir.Path, perClass: 1);
        var ml = new MLContext(seed: 0);
        var data = Images(ml, model);
        var fitted = Pipeline(ml, model).Fit(data);
        var before = fitted.Transform(data);
        var path = Path.Combine(dir.Path, "zero-shot.zip");
        ml.Model.SaveCoCa(fitted, data.Schema, path);

        var fresh = new MLContext(seed: 1);
        var loaded = fresh.Model.LoadCoCa(path, out _);
        var after = loaded.Transform(Images(fresh, model));
        Assert.Equal(before.GetColumn<float[]>("Score").SelectMany(s => s), after.GetColumn<float[]>("Score").SelectMany(s => s));
        Assert.Equal(Strings(before, "PredictedClass"), Strings(after, "PredictedClass"));
        Assert.Equal(1.0, fresh.MulticlassClassification.Evaluate(after).MicroAccuracy);
        var zeroShot = Assert.Single(((IEnumerable<ITransformer>)loaded).OfType<CoCaZeroShotTransformer>());
        Assert.Equal(model.ClassNames, zeroShot.ClassNames);
        Assert.Equal(AlignedCoCa.Templates, zeroShot.Templates);
    }

    private sealed class EmbeddingRow
    {
        [VectorType(3)]
        public float[] Embedding { get; set; } = [];
    }

    private sealed class LabelledEmbeddingRow
    {
        public string Label { get; set; } = "";

        [VectorType(3)]
        public float[] Embedding { get; set; } = [];
    }

    [Fact]
    public void ScoresAreTheSoftmaxOfScaledCosines()
    {
        var ml = new MLContext();
        // Class embeddings need not be normalized on input; image embeddings are normalized before the cosine.
        var classifier = CoCaZeroShotTransformer.FromClassEmbeddings(ml, ["a", "b"], [2, 0, 0, 0, 0, 0.5f], logitScale: 10);
        var data = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = [3, 4, 0] }, new EmbeddingRow { Embedding = [0, 0, 0] } });
        var scored = classifier.Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        // cos = (0.6, 0), logits = (6, 0).
        Assert.Equal(1 / (1 + Math.Exp(-6)), scores[0][0], 6);
        Assert.Equal(Math.Exp(-6) / (1 + Math.Exp(-6)), scores[0][1], 6);
        Assert.Equal(new[] { 0.5f, 0.5f }, scores[1]);   // a zero embedding stays zero (no NaN), every class equally likely
        Assert.Equal(new uint[] { 1, 1 }, scored.GetColumn<uint>("PredictedLabel"));
    }

    [Fact]
    public void BadClassesTemplatesAndColumnsAreRejectedClearly()
    {
        var ml = new MLContext();
        var trainers = ml.MulticlassClassification.Trainers;
        Assert.Contains("at least two class names", Assert.Throws<ArgumentException>(() => trainers.CoCaZeroShot("m", "v", ["cat"])).Message);
        Assert.Contains("'cat' appears twice", Assert.Throws<ArgumentException>(() => trainers.CoCaZeroShot("m", "v", ["cat", "cat"])).Message);
        Assert.Contains("no {c} placeholder", Assert.Throws<ArgumentException>(() => trainers.CoCaZeroShot("m", "v", ["cat", "dog"], ["a photo"])).Message);

        var classifier = CoCaZeroShotTransformer.FromClassEmbeddings(ml, ["a", "b"], [1, 0, 0, 1]);
        var wrongDim = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = [1, 2, 3] } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Transform(wrongDim));
        Assert.Contains("'Embedding'", e.Message);
        Assert.Contains("2 values", e.Message);
    }

    [Fact]
    public void ALabelKeyOverOtherValuesThanTheClasses_IsRefused_NotEvaluatedKeyByKey()
    {
        // MapValueToKey without keyData orders keys by first occurrence (car, cat, dog here), while PredictedLabel key k is
        // class k (cat, dog, car): ML.NET's Evaluate compares the keys and gave a perfect classifier accuracy 0.
        var ml = new MLContext();
        var classifier = CoCaZeroShotTransformer.FromClassEmbeddings(ml, ["cat", "dog", "car"], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        var rows = ml.Data.LoadFromEnumerable(new[]
        {
            new LabelledEmbeddingRow { Label = "car", Embedding = [0, 0, 1] }, new LabelledEmbeddingRow { Label = "cat", Embedding = [1, 0, 0] },
            new LabelledEmbeddingRow { Label = "dog", Embedding = [0, 1, 0] },
        });
        var byOccurrence = ml.Transforms.Conversion.MapValueToKey("Label").Fit(rows).Transform(rows);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Transform(byOccurrence));
        Assert.Contains("Label column 'Label' is a key over 'car', 'cat', 'dog'; this classifier's classes are 'cat', 'dog', 'car'", e.Message);

        // Keyed over the class names in their order: evaluated as it should be.
        var classes = ml.Data.LoadFromEnumerable(new[] { "cat", "dog", "car" }.Select(c => new ClassRow { Label = c }));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: classes).Fit(rows).Transform(rows);
        Assert.Equal(1.0, ml.MulticlassClassification.Evaluate(classifier.Transform(keyed)).MicroAccuracy);
        // Without a Label key (text labels, or none): scored, nothing to check.
        Assert.Equal(3, classifier.Transform(rows).GetColumn<uint>("PredictedLabel").Count());
    }

    [Fact]
    public void NonFiniteEmbeddingsAreRefused_NotClassifiedAsTheFirstClass()
    {
        var ml = new MLContext();
        var classifier = CoCaZeroShotTransformer.FromClassEmbeddings(ml, ["a", "b"], [1, 0, 0, 0, 1, 0]);
        var data = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = [0, 1, 0] }, new EmbeddingRow { Embedding = [float.NaN, 1, 0] } });
        var e = Assert.Throws<InvalidDataException>(() => classifier.Transform(data).GetColumn<uint>("PredictedLabel").ToArray());
        Assert.Contains("Column 'Embedding' holds NaN at row 1", e.Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => classifier.Score([float.NaN, 0, 0])).Message);

        var nanClass = Assert.Throws<ArgumentException>(() => CoCaZeroShotTransformer.FromClassEmbeddings(ml, ["a", "b"], [1, 0, 0, float.NaN, 1, 0]));
        Assert.Contains("class embedding of 'b' holds NaN", nanClass.Message);
    }
}

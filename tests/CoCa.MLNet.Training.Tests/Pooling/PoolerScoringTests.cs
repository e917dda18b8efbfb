using CoCa.MLNet.Persistence;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>
/// The trained model as ML.NET sees it: ONNX-scored (no libtorch) equal to TorchSharp, Score/PredictedLabel that
/// Evaluate and MapKeyToValue understand, SaveCoCa/LoadCoCa round trips, and clear errors on bad scoring input.
/// </summary>
public class PoolerScoringTests(ITestOutputHelper output)
{
    private const int Tokens = 12, Dim = 16, Classes = 3;
    private static readonly int[] ImageDims = [Tokens, Dim];

    private static AttentionalPoolerOptions Small() => new()
    {
        NumberOfEpochs = 4, BatchSize = 16, Seed = 3, NumberOfHeads = 2, NumberOfQueries = 2, LearningRate = 3e-3,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnnxScored_EqualsTorchScored(bool video)
    {
        var ml = new MLContext(seed: 1);
        int[] dims = video ? [3, 5, Dim] : ImageDims;
        var train = video ? SyntheticTokens.FrameOrder(120, 3, 5, Dim, seed: 1) : SyntheticTokens.Needle(120, Tokens, Dim, Classes, seed: 1);
        var test = video ? SyntheticTokens.FrameOrder(40, 3, 5, Dim, seed: 2) : SyntheticTokens.Needle(40, Tokens, Dim, Classes, seed: 2);
        var options = Small();
        options.NumberOfQueries = 3;
        options.ScoringBatchSize = 16;   // several ONNX Runtime calls, the last one short
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, train, dims)).Transform(SyntheticTokens.ToDataView(ml, train, dims));
        using var model = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(data);
        Assert.Equal(video, model.Config.FrameEmbeddings);

        var tokens = test.SelectMany(r => r.Features).ToArray();
        var onnx = model.PredictProbabilities(tokens, test.Count);
        using var torch = new AttentionalPoolerTorchScorer(model.Weights);
        foreach (var reassociated in new[] { true, false })
        {
            torch.UseReassociation = reassociated;
            var reference = torch.PredictProbabilities(tokens, test.Count);
            double max = onnx.Zip(reference, (a, b) => (double)Math.Abs(a - b)).Max();
            output.WriteLine($"{(video ? "video" : "image")}: ONNX vs TorchSharp ({(reassociated ? "reassociated" : "projected")}) max |Δp| = {max:E2}");
            Assert.True(max <= 1e-5, $"ONNX-scored probabilities differ from TorchSharp's by {max:E2} (> 1e-5)");
        }
        Assert.All(Enumerable.Range(0, test.Count), i => Assert.Equal(1.0, onnx.AsSpan(i * model.Config.Classes, model.Config.Classes).ToArray().Sum(), 5));
    }

    [Fact]
    public void Pipeline_EvaluatesMapsKeysBack_AndLoadsFromOneFileWithEqualPredictions()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticTokens.Needle(240, Tokens, Dim, Classes, seed: 1);
        var test = SyntheticTokens.Needle(60, Tokens, Dim, Classes, seed: 2);
        var trainData = SyntheticTokens.ToDataView(ml, train, ImageDims);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(Small()))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var model = pipeline.Fit(trainData);

        var scored = model.Transform(SyntheticTokens.ToDataView(ml, test, ImageDims));
        var metrics = ml.MulticlassClassification.Evaluate(scored, topKPredictionCount: 2);
        var rows = ml.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
        double accuracy = rows.Zip(test, (r, t) => r.PredictedClass == t.Label ? 1.0 : 0.0).Average();
        output.WriteLine($"micro accuracy {metrics.MicroAccuracy:P1}, top-2 {metrics.TopKAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
        Assert.Equal(accuracy, metrics.MicroAccuracy, 9);          // MapKeyToValue names the class Evaluate counted
        Assert.Equal(Classes, metrics.ConfusionMatrix.NumberOfClasses);
        Assert.True(double.IsFinite(metrics.LogLoss));
        Assert.True(metrics.TopKAccuracy >= metrics.MicroAccuracy);
        Assert.All(rows, r => Assert.StartsWith("class", r.PredictedClass));
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        Assert.Equal(["class0", "class1", "class2"], slotNames.DenseValues().Select(v => v.ToString()).Order());

        var path = Path.Combine(Path.GetTempPath(), $"coca-pooler-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.SaveCoCa(model, trainData.Schema, path);
            var fresh = new MLContext(seed: 7);
            var loaded = fresh.Model.LoadCoCa(path, out var schema);
            Assert.NotNull(schema);
            var again = fresh.Data.CreateEnumerable<ScoredRow>(loaded.Transform(SyntheticTokens.ToDataView(fresh, test, ImageDims)), reuseRowObject: false).ToList();
            Assert.Equal(rows.Select(r => r.PredictedClass), again.Select(r => r.PredictedClass));
            for (int i = 0; i < rows.Count; i++)
                Assert.True(rows[i].Score.AsSpan().SequenceEqual(again[i].Score), $"row {i}: loaded scores differ from in-memory ones");

            // A package saved before the pooler moved to CoCa.MLNet.Pooling names CoCa.MLNet.Scoring: it still loads.
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
            {
                var entry = zip.GetEntry("manifest.json")!;
                string manifest;
                using (var reader = new StreamReader(entry.Open())) manifest = reader.ReadToEnd();
                Assert.Contains("CoCa.MLNet.Pooling.AttentionalPoolerTransformer", manifest);
                entry.Delete();
                using var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open());
                writer.Write(manifest.Replace("CoCa.MLNet.Pooling.AttentionalPoolerTransformer", "CoCa.MLNet.Scoring.AttentionalPoolerTransformer"));
            }
            var old = new MLContext(seed: 7).Model.LoadCoCa(path, out _);
            var oldRows = fresh.Data.CreateEnumerable<ScoredRow>(old.Transform(SyntheticTokens.ToDataView(fresh, test, ImageDims)), reuseRowObject: false).ToList();
            Assert.Equal(rows.Select(r => r.PredictedClass), oldRows.Select(r => r.PredictedClass));

            // A damaged entry is one line naming the package and the part, not a JSON parser's position or ML.NET's
            // "Failed to open a zip archive" alone.
            foreach (var (entryName, bytes) in new[] { ("parts/001/pooler.json", "{"u8.ToArray()), ("parts/002/mlnet.zip", new byte[] { 1, 2, 3 }), ("parts/001/pooler.onnx", new byte[] { 8, 1, 18 }) })
            {
                var damaged = Path.Combine(Path.GetTempPath(), $"coca-damaged-{Guid.NewGuid():N}.zip");
                File.Copy(path, damaged);
                try
                {
                    using (var zip = System.IO.Compression.ZipFile.Open(damaged, System.IO.Compression.ZipArchiveMode.Update))
                    {
                        Assert.NotNull(zip.GetEntry(entryName));
                        zip.GetEntry(entryName)!.Delete();
                        using var s = zip.CreateEntry(entryName).Open();
                        s.Write(bytes);
                    }
                    var e = Assert.Throws<InvalidDataException>(() => new MLContext().Model.LoadCoCa(damaged, out _));
                    Assert.StartsWith($"Model package '{damaged}' is damaged: part {entryName[..entryName.LastIndexOf('/')]}/ (", e.Message);
                    Assert.DoesNotContain('\n', e.Message);
                }
                finally { File.Delete(damaged); }
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ScoringLabelsTrainingNeverSaw_AreClearErrors()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticTokens.Needle(90, Tokens, Dim, Classes, seed: 1);
        var options = Small();
        options.NumberOfEpochs = 1;
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.AttentionalPooler(options))
            .Fit(SyntheticTokens.ToDataView(ml, train, ImageDims));

        var test = SyntheticTokens.Needle(10, Tokens, Dim, Classes, seed: 2);
        test[4].Label = "zebra";
        var scored = model.Transform(SyntheticTokens.ToDataView(ml, test, ImageDims));
        var e = Assert.ThrowsAny<Exception>(() => ml.MulticlassClassification.Evaluate(scored));
        var inner = Innermost(e);
        Assert.IsType<InvalidDataException>(inner);
        Assert.Contains("Row 4 of label column 'Label' holds a value that training never saw", inner.Message);
        Assert.Contains("'class0' (key", inner.Message);
    }

    [Fact]
    public void ScoringFeaturesOfTheWrongShapeOrNaN_AreClearErrors()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticTokens.Needle(90, Tokens, Dim, Classes, seed: 1);
        var options = Small();
        options.NumberOfEpochs = 1;
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, train, ImageDims)).Transform(SyntheticTokens.ToDataView(ml, train, ImageDims));
        using var model = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(data);

        var narrow = SyntheticTokens.Needle(5, Tokens, 8, Classes, seed: 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(SyntheticTokens.ToDataView(ml, narrow, Tokens, 8)));
        Assert.Contains("Input column 'Tokens' is Vector<Single, 12, 8>; this pooler was trained on Vector<Single, 12, 16>", e.Message);

        var bad = SyntheticTokens.Needle(5, Tokens, Dim, Classes, seed: 2);
        bad[3].Features[17] = float.NaN;
        var scored = model.Transform(SyntheticTokens.ToDataView(ml, bad, ImageDims));
        var nan = Innermost(Assert.ThrowsAny<Exception>(() => scored.GetColumn<float[]>("Score").ToList()));
        Assert.IsType<InvalidDataException>(nan);
        Assert.Contains("Column 'Tokens' row 3 holds NaN at value 17", nan.Message);
    }

    [Fact]
    public void ScoringWithADisposedPooler_SaysSo_InsteadOfCrashingTheProcess()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticTokens.Needle(30, Tokens, Dim, Classes, seed: 1);
        var options = Small();
        options.NumberOfEpochs = 1;
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, train, ImageDims)).Transform(SyntheticTokens.ToDataView(ml, train, ImageDims));
        var model = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(data);
        model.Dispose();   // as a PredictionEngine made from it does when it is disposed
        var e = Assert.Throws<ObjectDisposedException>(() => model.Transform(data).GetColumn<float[]>("Score").ToList());
        Assert.Contains("the attentional pooler was disposed", e.Message);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private sealed class ScoredRow
    {
        public float[] Score { get; set; } = [];
        public string PredictedClass { get; set; } = "";
    }
}

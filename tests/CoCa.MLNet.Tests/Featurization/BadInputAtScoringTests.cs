using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Featurization;

/// <summary>
/// An undecodable input at scoring time surfaces as the featurizer's own error, naming the file and what was expected
/// (as <c>coca featurize</c> reports it), not wrapped in a parallel decode's AggregateException or ML.NET's
/// "Splitter/consolidator worker" text.
/// </summary>
public sealed class BadInputAtScoringTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-bad-scoring-");

    public void Dispose() => _dir.Delete(recursive: true);

    private sealed class Row
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "a";
    }

    private sealed class Out
    {
        public string Image { get; set; } = "";
        public float[] Embedding { get; set; } = [];
    }

    private string Truncated()
    {
        var path = Path.Combine(_dir.FullName, "truncated.png");
        var png = File.ReadAllBytes(TinyModel.ImagePaths()[0]);
        File.WriteAllBytes(path, png.AsSpan(0, png.Length / 2).ToArray());
        return path;
    }

    private IDataView Data(MLContext ml, string bad) =>
        ml.Data.LoadFromEnumerable(new[] { TinyModel.ImagePaths()[0], bad, TinyModel.ImagePaths()[1] }.Select(p => new Row { Image = p }));

    [FixtureFact]
    public void ImageFeaturizer_ThrowsTheDecodersErrorItself()
    {
        var ml = new MLContext();
        var bad = Truncated();
        var data = Data(ml, bad);
        var output = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory).Fit(data).Transform(data);
        var e = Assert.Throws<InvalidDataException>(() => ml.Data.CreateEnumerable<Out>(output, reuseRowObject: false).ToList());
        Assert.Contains(bad, e.Message);
        Assert.Contains("expected", e.Message);
    }

    [FixtureFact]
    public void EmptyFile_BehindAnMLNetTransform_ReachesTheNextCoCaTransformUnwrapped()
    {
        // featurizer → ML.NET transform (reads our rows on worker threads) → zero-shot (a CoCa transform): the zero-shot
        // cursor takes off ML.NET's splitter wrapper, so the user sees the featurizer's error.
        var ml = new MLContext();
        var empty = Path.Combine(_dir.FullName, "empty.png");
        File.WriteAllBytes(empty, []);
        var data = Data(ml, empty);
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, tokensColumnName: null)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.CoCaZeroShot(TinyModel.Directory, Fixtures.ClipBpe, ["cat", "dog"]));
        var output = pipeline.Fit(ml.Data.LoadFromEnumerable(new[] { new Row { Image = TinyModel.ImagePaths()[0] } })).Transform(data);
        foreach (var read in new Action[]
        {
            () => ml.Data.CreateEnumerable<Out>(output, reuseRowObject: false).ToList(),
            () => output.Preview(),
        })
        {
            var e = Assert.Throws<InvalidDataException>(read);
            Assert.Contains(empty, e.Message);
            Assert.Contains("0 bytes", e.Message);
        }
    }

    [FixtureFact]
    public void PredictionEngine_ThrowsTheDecodersErrorItself()
    {
        // A PredictionEngine maps one row at a time (BatchedRowToRowMapper), not through the batched cursor: the same
        // error, not the parallel decode's AggregateException around it.
        var ml = new MLContext();
        var bad = Truncated();
        var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory).Fit(Data(ml, bad));
        var engine = ml.Model.CreatePredictionEngine<Row, Out>(model);
        Assert.NotEmpty(engine.Predict(new Row { Image = TinyModel.ImagePaths()[0] }).Embedding);
        var e = Assert.Throws<InvalidDataException>(() => engine.Predict(new Row { Image = bad }));
        Assert.Contains(bad, e.Message);
        var missing = Path.Combine(_dir.FullName, "missing.png");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => engine.Predict(new Row { Image = missing })).Message);
    }

    [FixtureFact]
    public void AnMLImageThatMLNetCannotLoad_IsNamedByColumnAndRow()
    {
        // ML.NET's LoadImages says only "Invalid input stream contents (Parameter 'imageStream')" for a file it cannot
        // decode (here an empty one); the featurizer reading that MLImage names the column, the row and what was expected.
        var ml = new MLContext();
        var empty = Path.Combine(_dir.FullName, "empty.png");
        File.WriteAllBytes(empty, []);
        var data = Data(ml, empty);
        var pipeline = ml.Transforms.LoadImages("Loaded", imageFolder: null, inputColumnName: "Image")
            .Append(ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, inputColumnName: "Loaded", tokensColumnName: null));
        var output = pipeline.Fit(ml.Data.LoadFromEnumerable(new[] { new Row { Image = TinyModel.ImagePaths()[0] } })).Transform(data);
        var e = Assert.Throws<InvalidDataException>(() => ml.Data.CreateEnumerable<Out>(output, reuseRowObject: false).ToList());
        Assert.Contains("Column 'Loaded'", e.Message);
        Assert.Contains("row 1", e.Message);
        Assert.Contains("expected PNG, JPEG", e.Message);
    }

    [Fact]
    public void Unwrap_TakesOffAggregateAndMLNetSplitterWrappers()
    {
        var inner = new InvalidDataException("Cannot decode image 'x.png'");
        var wrapped = new InvalidOperationException(InputErrors.MLNetWorkerWrapper + " while consuming source data",
            new InvalidOperationException(InputErrors.MLNetWorkerWrapper + " while consuming source data", new AggregateException(inner)));
        Assert.Same(inner, InputErrors.Unwrap(wrapped));
        Assert.True(InputErrors.IsBadInput(wrapped));
        var second = new InvalidDataException("Image 'y.png' is empty (0 bytes)");
        Assert.Same(inner, InputErrors.Unwrap(new AggregateException(inner, second)));
        var other = new InvalidOperationException("something else", inner);
        Assert.Same(other, InputErrors.Unwrap(other));
    }
}

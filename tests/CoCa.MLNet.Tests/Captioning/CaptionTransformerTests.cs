using CoCa.MLNet.Captioning;
using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Captioning;

/// <summary><c>GenerateCoCaCaption</c> in ML.NET: open_clip's captions from paths and MLImages, saved and loaded with SaveCoCa.</summary>
public sealed class CaptionTransformerTests
{
    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
    }

    private static IDataView Images(MLContext ml) =>
        ml.Data.LoadFromEnumerable(CaptionFixture.ImagePaths().Select(p => new ImageRow { Image = p }));

    private static string[] Texts(IDataView data, string column) =>
        data.GetColumn<ReadOnlyMemory<char>>(column).Select(t => t.ToString()).ToArray();

    private static long[][] Ids(IDataView data, string column) =>
        data.GetColumn<VBuffer<long>>(column).Select(v => v.DenseValues().ToArray()).ToArray();

    [CaptionFixtureFact]
    public void PathsGiveOpenClipsGreedyCaptionsAndIds()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml);
        var estimator = ml.Transforms.GenerateCoCaCaption(new CoCaCaptionOptions
        {
            ModelPath = CaptionFixture.ModelDirectory.Value,
            VocabPath = Fixtures.ClipBpe,
            IdsColumnName = "CaptionIds",
            BatchSize = 4,
            Generation = new CaptionGenerationOptions { Decoding = CaptionDecoding.Greedy },
            Execution = new CoCa.MLNet.Runtime.OnnxExecutionOptions { IntraOpNumThreads = 2 },
        });
        var inputShape = new SchemaShape(data.Schema.Select(c => SchemaShapes.Column(c.Name, SchemaShape.Column.VectorKind.Scalar, c.Type, false)));
        var shape = estimator.GetOutputSchema(inputShape);
        Assert.Contains(shape, c => c.Name == "Caption" && c.ItemType is TextDataViewType);
        Assert.Contains(shape, c => c.Name == "CaptionIds" && c.Kind == SchemaShape.Column.VectorKind.VariableVector);
        using var model = estimator.Fit(data);
        var output = model.Transform(data);
        var expected = CaptionFixture.Expected.Value;
        Assert.Equal(expected.GreedyText, Texts(output, "Caption"));
        Assert.Equal(expected.Greedy, Ids(output, "CaptionIds"));
    }

    [CaptionFixtureFact]
    public void MLImagesGiveOpenClipsBeamCaptionsAndTheSavedPipelineGivesThemAgain()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml);
        var pipeline = ml.Transforms.LoadImages("Loaded", imageFolder: null, inputColumnName: "Image")
            .Append(ml.Transforms.GenerateCoCaCaption(CaptionFixture.ModelDirectory.Value, Fixtures.ClipBpe, inputColumnName: "Loaded"));
        var model = pipeline.Fit(data);
        var expected = CaptionFixture.Expected.Value;
        Assert.Equal(expected.BeamText, Texts(model.Transform(data), "Caption"));

        var path = Path.Combine(Path.GetTempPath(), $"coca-caption-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.SaveCoCa(model, data.Schema, path);
            var fresh = new MLContext(seed: 1);
            var loaded = fresh.Model.LoadCoCa(path, out var inputSchema);
            Assert.NotNull(inputSchema);
            Assert.Equal(expected.BeamText, Texts(loaded.Transform(Images(fresh)), "Caption"));
        }
        finally { File.Delete(path); }
    }

    [CaptionFixtureFact]
    public void ANumberColumnOrAModelThatCannotCaptionIsRefusedClearly()
    {
        var ml = new MLContext(seed: 0);
        var numbers = ml.Data.LoadFromEnumerable(new[] { new { Image = 1f } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.GenerateCoCaCaption(CaptionFixture.ModelDirectory.Value, Fixtures.ClipBpe).Fit(numbers));
        Assert.Contains("expected an image path (text) or an MLImage", e.Message);

        var tiny = Assert.Throws<InvalidOperationException>(() =>
            ml.Transforms.GenerateCoCaCaption(TinyModel.Directory, Fixtures.ClipBpe).Fit(Images(ml)));
        Assert.Contains("cannot caption", tiny.Message);
    }
}

using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Featurization;

public class ImageFeaturizerTests
{
    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
    }

    private static IDataView Paths(MLContext ml, IEnumerable<string> paths) =>
        ml.Data.LoadFromEnumerable(paths.Select(p => new ImageRow { Image = p }));

    private static float[] Column(IDataView data, string name) => FloatVectorColumn.ReadFlat(data, name);

    [FixtureFact]
    public void PngsThroughTheMLNetPipelineMatchOpenClip()
    {
        var ml = new MLContext(seed: 0);
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, batchSize: 4);
        var data = Paths(ml, TinyModel.ImagePaths());
        using var model = pipeline.Fit(data);
        var output = model.Transform(data);

        var tokensType = (VectorDataViewType)output.Schema["Tokens"].Type;
        Assert.Equal([17, 64], tokensType.Dimensions.ToArray());
        Assert.Equal(48, ((VectorDataViewType)output.Schema["Embedding"].Type).Size);

        Fixtures.AssertRowsClose(Column(output, "Tokens"), Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy")).Data, 6, 1e-4, "tokens");
        Fixtures.AssertRowsClose(Column(output, "Embedding"), Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data, 6, 1e-4, "embedding");
    }

    [FixtureFact]
    public void MLImageInputGivesTheSameFeaturesAsPaths()
    {
        var ml = new MLContext(seed: 0);
        var paths = TinyModel.ImagePaths();
        var data = Paths(ml, paths);
        var byPath = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, embeddingColumnName: null).Fit(data).Transform(data);
        var imagePipeline = ml.Transforms.LoadImages("Loaded", imageFolder: null, inputColumnName: "Image")
            .Append(ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, inputColumnName: "Loaded", embeddingColumnName: null));
        var byImage = imagePipeline.Fit(data).Transform(data);
        Assert.Equal(Column(byPath, "Tokens"), Column(byImage, "Tokens"));
    }

    [FixtureFact]
    public void PredictionEngineScoresOneImage()
    {
        var ml = new MLContext(seed: 0);
        var paths = TinyModel.ImagePaths();
        var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, tokensColumnName: null).Fit(Paths(ml, paths));
        var engine = ml.Model.CreatePredictionEngine<ImageRow, EmbeddingRow>(model);
        var embedding = engine.Predict(new ImageRow { Image = paths[3] }).Embedding;
        var reference = Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data.AsSpan(3 * 48, 48);
        Assert.True(Fixtures.RelativeError(embedding, reference) <= 1e-4);
    }

    private sealed class EmbeddingRow
    {
        [VectorType(48)]
        public float[] Embedding { get; set; } = [];
    }

    [Fact]
    public void TwoOutputsOfOneName_AreRefused_NotOneHidingTheOther()
    {
        var ml = new MLContext();
        var image = Assert.Throws<ArgumentException>(() => ml.Transforms.ExtractCoCaImageFeatures("m", tokensColumnName: "X", embeddingColumnName: "X"));
        Assert.Contains("CoCaImageFeaturizerOptions.TokensColumnName and EmbeddingColumnName are both 'X'", image.Message);
        var video = Assert.Throws<ArgumentException>(() => ml.Transforms.ExtractCoCaVideoFeatures(new CoCaVideoFeaturizerOptions { ModelPath = "m", TokensColumnName = "X", EmbeddingColumnName = "X" }));
        Assert.Contains("CoCaVideoFeaturizerOptions.TokensColumnName and EmbeddingColumnName are both 'X'", video.Message);
        var caption = Assert.Throws<ArgumentException>(() => ml.Transforms.GenerateCoCaCaption(new CoCa.MLNet.Captioning.CoCaCaptionOptions { ModelPath = "m", VocabPath = "v", OutputColumnName = "X", IdsColumnName = "X" }));
        Assert.Contains("CoCaCaptionOptions.OutputColumnName and IdsColumnName are both 'X'", caption.Message);
    }

    [FixtureFact]
    public void AModelDisposedByItsPredictionEngine_SaysSo_InsteadOfCrashingTheProcess()
    {
        // ML.NET's PredictionEngine disposes the model it was made from when it is disposed (OwnsTransformer defaults to
        // true): scoring with the model afterwards ran a closed ONNX Runtime session, and the process died (SIGSEGV).
        var ml = new MLContext(seed: 0);
        var paths = TinyModel.ImagePaths();
        var data = Paths(ml, paths);
        var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, tokensColumnName: null).Fit(data);
        var scoredBefore = model.Transform(data);
        using (var engine = ml.Model.CreatePredictionEngine<ImageRow, EmbeddingRow>(model))
            Assert.Equal(48, engine.Predict(new ImageRow { Image = paths[0] }).Embedding.Length);
        foreach (var use in new Action[]
        {
            () => model.Transform(data).GetColumn<float[]>("Embedding").ToList(),
            () => scoredBefore.GetColumn<float[]>("Embedding").ToList(),
            () => ml.Model.CreatePredictionEngine<ImageRow, EmbeddingRow>(model).Predict(new ImageRow { Image = paths[0] }),
        })
        {
            var e = Assert.Throws<ObjectDisposedException>(use);
            Assert.Contains("the CoCa vision model 'open_clip_coca_tiny' was disposed", e.Message);
            Assert.Contains("OwnsTransformer = false", e.Message);
        }

        // The text tower, likewise.
        var texts = ml.Data.LoadFromEnumerable(new[] { new TextEmbeddingTests.TextRow { Text = "a cat" } });
        var text = ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, Fixtures.ClipBpe, inputColumnName: "Text").Fit(texts);
        text.Dispose();
        Assert.Contains("the CoCa text model 'open_clip_coca_tiny' was disposed",
            Assert.Throws<ObjectDisposedException>(() => text.Transform(texts).GetColumn<float[]>("TextEmbedding").ToList()).Message);
    }


    [FixtureFact]
    public void SaveCoCaAndLoadCoCaGiveBitIdenticalFeatures()
    {
        var ml = new MLContext(seed: 0);
        var data = Paths(ml, TinyModel.ImagePaths());
        var pipeline = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory)
            .Append(ml.Transforms.Concatenate("Both", "Embedding", "Embedding"));
        var model = pipeline.Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"coca-featurizer-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.SaveCoCa(model, data.Schema, path);
            var fresh = new MLContext(seed: 1);
            var loaded = fresh.Model.LoadCoCa(path, out var schema);
            Assert.NotNull(schema);
            Assert.Equal("Image", schema!["Image"].Name);
            var before = model.Transform(data);
            var after = loaded.Transform(Paths(fresh, TinyModel.ImagePaths()));
            Assert.Equal(Column(before, "Tokens"), Column(after, "Tokens"));
            Assert.Equal(Column(before, "Both"), Column(after, "Both"));
        }
        finally { File.Delete(path); }
    }

    [FixtureFact]
    public void PackagesSavedBeforeTheOneOptionsLayout_StillLoad_AndNoLocalPathIsSaved()
    {
        var ml = new MLContext(seed: 0);
        var data = Paths(ml, TinyModel.ImagePaths());
        using var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, embeddingColumnName: null, batchSize: 3).Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"coca-featurizer-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.SaveCoCa(model, data.Schema, path);
            string entry;
            using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
                entry = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith("options.json")).Open()).ReadToEnd();
            Assert.DoesNotContain(TinyModel.Directory, entry);     // the saving machine's model folder stays out of the package
            Assert.DoesNotContain("model_path", entry);

            // The layout of packages saved before: the options' fields flat, beside the config.
            var node = System.Text.Json.Nodes.JsonNode.Parse(entry)!.AsObject();
            var flat = node["options"]!.DeepClone().AsObject();
            flat["config"] = node["config"]!.DeepClone();
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
            {
                var old = zip.Entries.Single(e => e.FullName.EndsWith("options.json"));
                var name = old.FullName;
                old.Delete();
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write(flat.ToJsonString());
            }
            var loaded = new MLContext().Model.LoadCoCa(path, out _);
            var after = loaded.Transform(Paths(ml, TinyModel.ImagePaths()));
            Assert.Null(after.Schema.GetColumnOrNull("Embedding"));   // a null column name read as null, not as the default
            Assert.Equal(Column(model.Transform(data), "Tokens"), Column(after, "Tokens"));
        }
        finally { File.Delete(path); }
    }

    [FixtureFact]
    public void SavedFeaturizerNeedsNothingButItsFile()
    {
        var work = Directory.CreateTempSubdirectory("coca-saved-");
        try
        {
            var modelDir = Path.Combine(work.FullName, "model");
            CoCa.MLNet.Conversion.CoCaConverter.Convert(Fixtures.TinyCoCa, modelDir);
            var ml = new MLContext(seed: 0);
            var data = Paths(ml, TinyModel.ImagePaths());
            var saved = Path.Combine(work.FullName, "featurizer.zip");
            using (var model = ml.Transforms.ExtractCoCaImageFeatures(modelDir).Fit(data))
                ml.Model.SaveCoCa(model, data.Schema, saved);
            Directory.Delete(modelDir, recursive: true);   // the ONNX model and coca.json travel inside the zip

            var fresh = new MLContext(seed: 1);
            var output = fresh.Model.LoadCoCa(saved, out _).Transform(Paths(fresh, TinyModel.ImagePaths()));
            Fixtures.AssertRowsClose(Column(output, "Tokens"), Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy")).Data, 6, 1e-4, "tokens");
            Fixtures.AssertRowsClose(Column(output, "Embedding"), Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data, 6, 1e-4, "embedding");
        }
        finally { work.Delete(recursive: true); }
    }

    [FixtureFact]
    public void MLNetModelSaveNamesTheCoCaRoute()
    {
        var ml = new MLContext();
        var data = Paths(ml, TinyModel.ImagePaths());
        var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory).Fit(data);
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.Save(model, data.Schema, new MemoryStream()));
        Assert.Contains("SaveCoCa", e.Message);
    }

    [FixtureFact]
    public void CorruptAndMissingImagesGiveErrorsNamingTheFile()
    {
        var ml = new MLContext();
        var dir = Directory.CreateTempSubdirectory("coca-bad-");
        try
        {
            var corrupt = Path.Combine(dir.FullName, "corrupt.png");
            var png = File.ReadAllBytes(TinyModel.ImagePaths()[0]);
            File.WriteAllBytes(corrupt, png.AsSpan(0, 100).ToArray());
            var missing = Path.Combine(dir.FullName, "missing.png");
            foreach (var bad in new[] { corrupt, missing })
            {
                var data = Paths(ml, [TinyModel.ImagePaths()[0], bad]);
                var output = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory).Fit(data).Transform(data);
                var e = Assert.ThrowsAny<Exception>(() => Column(output, "Embedding"));
                Assert.Contains(Path.GetFileName(bad), e.Message + e.InnerException?.Message);
            }
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void WrongInputColumnIsRejectedBeforeAnyWork()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new { Number = 1f } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, inputColumnName: "Number").Fit(data));
        Assert.Contains("'Number'", e.Message);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory).Fit(data));
        Assert.Contains("'Image'", missing.Message);
    }

    [FixtureFact]
    public void BatchSizeDoesNotChangeTheNumbers()
    {
        var ml = new MLContext();
        var data = Paths(ml, TinyModel.ImagePaths());
        var one = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, batchSize: 1).Fit(data).Transform(data);
        var five = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, batchSize: 5).Fit(data).Transform(data);
        Fixtures.AssertRowsClose(Column(five, "Tokens"), Column(one, "Tokens"), 6, 1e-6, "batch 5 vs 1");
    }
}

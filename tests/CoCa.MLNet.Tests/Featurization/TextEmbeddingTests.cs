using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Tests.Checkpoints;
using CoCa.MLNet.Tests.Onnx;
using CoCa.MLNet.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Featurization;

/// <summary>Texts → embeddings through the ML.NET transformer, against open_clip and the float64 reference.</summary>
public class TextEmbeddingTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    internal sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    internal static IDataView Texts(MLContext ml, IEnumerable<string> texts) => ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));

    internal static string[] Captions() => File.ReadAllLines(Fixtures.Tiny("captions.txt"));

    internal static float[] Column(IDataView data, string name) => FloatVectorColumn.ReadFlat(data, name);

    [FixtureFact]
    public void CaptionsThroughTheMLNetPipelineMatchOpenClip()
    {
        var ml = new MLContext(seed: 0);
        var data = Texts(ml, Captions());
        using var model = ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, Fixtures.ClipBpe, batchSize: 4).Fit(data);
        var transformed = model.Transform(data);
        Assert.Equal(48, ((VectorDataViewType)transformed.Schema["TextEmbedding"].Type).Size);
        var actual = Column(transformed, "TextEmbedding");
        var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy")).Data;
        output.WriteLine($"ML.NET text embedding vs open_clip: max row relative error {RowError.Max(actual, expected, 6):E2}");
        Fixtures.AssertRowsClose(actual, expected, 6, Tolerance, "text embedding");
    }

    [FixtureFact]
    public void ExtractorTokenizesWithTheModelsContextLength()
    {
        using var text = CoCaTextFeatureExtractor.Open(TinyModel.Directory, Fixtures.ClipBpe);
        Assert.Equal(76, text.Encoder.ContextLength);
        Assert.Equal(Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy")).Data, text.Tokenize(Captions()));
    }

    private sealed class EmbeddingRow
    {
        [VectorType(48)]
        public float[] TextEmbedding { get; set; } = [];
    }

    [FixtureFact]
    public void PredictionEngineEmbedsOneText()
    {
        var ml = new MLContext(seed: 0);
        var captions = Captions();
        var model = ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, Fixtures.ClipBpe).Fit(Texts(ml, captions));
        var engine = ml.Model.CreatePredictionEngine<TextRow, EmbeddingRow>(model);
        var embedding = engine.Predict(new TextRow { Text = captions[1] }).TextEmbedding;
        var reference = Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy")).Data.AsSpan(48, 48);
        Assert.True(Fixtures.RelativeError(embedding, reference) <= Tolerance);
    }

    [FixtureFact]
    public void SavedPipelineCarriesModelAndVocabulary()
    {
        // Convert and copy the vocabulary into a scratch folder, save, delete both: the package alone must suffice.
        using var scratch = new TempDirectory();
        var modelDir = scratch.File("model");
        CoCaConverter.Convert(Fixtures.TinyCoCa, modelDir);
        var vocab = scratch.File("bpe_simple_vocab_16e6.txt.gz");
        File.Copy(Fixtures.ClipBpe, vocab);
        var ml = new MLContext(seed: 0);
        var data = Texts(ml, Captions());
        var model = ml.Transforms.ExtractCoCaTextEmbedding(modelDir, vocab, inputColumnName: "Text", outputColumnName: "E")
            .Append(ml.Transforms.Concatenate("Twice", "E", "E"))
            .Fit(data);
        var before = Column(model.Transform(data), "Twice");
        var path = scratch.File("text-model.zip");
        ml.Model.SaveCoCa(model, data.Schema, path);
        Directory.Delete(modelDir, recursive: true);
        File.Delete(vocab);

        var fresh = new MLContext(seed: 1);
        var loaded = fresh.Model.LoadCoCa(path, out var schema);
        Assert.Equal("Text", schema!["Text"].Name);
        var after = Column(loaded.Transform(Texts(fresh, Captions())), "Twice");
        Assert.Equal(before, after);
        var firstHalves = Enumerable.Range(0, 6).SelectMany(r => after.AsSpan(r * 96, 48).ToArray()).ToArray();
        Fixtures.AssertRowsClose(firstHalves, Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy")).Data, 6, Tolerance, "reloaded text embedding");
    }

    [FixtureFact]
    public void RandomModelOfAnotherConfigMatchesTheReference()
    {
        // A short context (20) truncates the long caption to 19 ids + end token, as open_clip's tokenizer does.
        var config = new CoCaModelConfig
        {
            Name = "random-text-ctx20",
            EmbedDim = 12,
            Vision = new VisionConfig { ImageSize = 16, PatchSize = 8, Width = 16, HeadWidth = 8, Layers = 0, AttnPoolerQueries = 2, AttnPoolerHeads = 2 },
            Text = new TextConfig { ContextLength = 20, Width = 24, Heads = 3, Layers = 2 },
        };
        var weights = RandomCoCaCheckpoint.Create(config, seed: 11, includeText: true);
        using var scratch = new TempDirectory();
        var converted = CoCaConverter.Convert(weights, config, scratch.Path);
        Assert.True(converted.HasText);

        var ml = new MLContext(seed: 0);
        var captions = Captions();
        var data = Texts(ml, captions);
        using var model = ml.Transforms.ExtractCoCaTextEmbedding(scratch.Path, Fixtures.ClipBpe, batchSize: 4).Fit(data);
        var actual = Column(model.Transform(data), "TextEmbedding");

        var ids = ClipTokenizer.FromFile(Fixtures.ClipBpe).EncodeBatch(captions, 20);
        Assert.Equal(ClipTokenizer.EndOfTextId, ids[5 * 20 + 19]);   // the long caption keeps its end token
        var expected = new ReferenceTextTower(config, weights).Forward(ids, captions.Length);
        double err = RowError.Max(actual, expected, captions.Length);
        output.WriteLine($"random ctx-20 model through ML.NET vs float64 reference: max row relative error {err:E2}");
        Assert.True(err <= Tolerance, $"{err:E3}");
    }

    [FixtureFact]
    public void EmptyTextAndNonLatinTextAreEmbedded()
    {
        var ml = new MLContext(seed: 0);
        string[] texts = ["", "東京タワー 2024", "Ünïcödé café!!"];
        var data = Texts(ml, texts);
        using var model = ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, Fixtures.ClipBpe).Fit(data);
        var actual = Column(model.Transform(data), "TextEmbedding");
        var weights = SafetensorsReader.Read(Fixtures.Tiny("open_clip_model.safetensors"));
        var ids = ClipTokenizer.FromFile(Fixtures.ClipBpe).EncodeBatch(texts, 76);
        var expected = new ReferenceTextTower(VisionTowerOnnxTests.TinyConfig, weights).Forward(ids, texts.Length);
        Assert.True(RowError.Max(actual, expected, texts.Length) <= Tolerance);
    }

    [FixtureFact]
    public void WrongInputColumnTypeIsNamed()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1f } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, Fixtures.ClipBpe).Fit(data));
        Assert.Contains("'Text'", e.Message);
        Assert.Contains("expected text", e.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => ml.Transforms.ExtractCoCaTextEmbedding(TinyModel.Directory, "/nonexistent/vocab.txt.gz").Fit(Texts(ml, ["a"])));
        Assert.Contains("/nonexistent/vocab.txt.gz", missing.Message);
    }

    private sealed class NumberRow
    {
        public float Text { get; set; }
    }
}

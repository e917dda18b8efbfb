using CoCa.MLNet.Pooling;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>
/// The featurizers' output and the pooler trainer's input share one default column name (<see cref="CoCaColumnNames.Tokens"/>),
/// so featurizer + trainer fit with no column names; a model saved with another features column keeps reading that column.
/// </summary>
public class DefaultColumnsTests
{
    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    [Fact]
    public void FeaturizerDefaults_MatchTrainerDefaults()
    {
        Assert.Equal(CoCaColumnNames.Tokens, new CoCa.MLNet.Featurization.CoCaImageFeaturizerOptions().TokensColumnName);
        Assert.Equal(CoCaColumnNames.Tokens, new CoCa.MLNet.Featurization.CoCaVideoFeaturizerOptions().TokensColumnName);
        Assert.Equal(CoCaColumnNames.Tokens, new AttentionalPoolerOptions().FeatureColumnName);
        Assert.Equal(CoCaColumnNames.Image, new CoCa.MLNet.Featurization.CoCaImageFeaturizerOptions().InputColumnName);
    }

    [FixtureFact]
    public void ImageFeaturizer_AppendedWithTrainer_FitsWithNoColumnNames()
    {
        var ml = new MLContext(seed: 1);
        var rows = TinyModel.ImagePaths().Select((p, i) => new ImageRow { Image = p, Label = i % 2 == 0 ? "even" : "odd" }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);

        var pipeline = ml.Transforms.Conversion.MapValueToKey(CoCaColumnNames.Label)
            .Append(ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory))
            .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { NumberOfEpochs = 2, Seed = 1 }));
        var model = pipeline.Fit(data);

        var pooler = model.LastTransformer;
        Assert.Equal(CoCaColumnNames.Tokens, pooler.Info.FeatureColumnName);
        var scored = model.Transform(data);
        var scores = scored.GetColumn<float[]>(CoCaColumnNames.Score).ToList();
        Assert.Equal(rows.Count, scores.Count);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));
        Assert.Equal(rows.Count, scored.GetColumn<uint>(CoCaColumnNames.PredictedLabel).Count());
    }

    [Fact]
    public void SavedModel_WithAnotherFeaturesColumn_StillReadsThatColumnAfterLoading()
    {
        // Before the shared default, the trainer read "Features"; a model saved then names that column in its package.
        var ml = new MLContext(seed: 1);
        var train = SyntheticTokens.Needle(60, 6, 8, 3, seed: 1);
        var data = ml.Data.LoadFromEnumerable(train.Select(r => new OldRow { Features = r.Features, Label = r.Label }), OldSchema());
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { FeatureColumnName = "Features", NumberOfEpochs = 2, Seed = 1, NumberOfHeads = 2 }))
            .Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"coca-old-columns-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.SaveCoCa(model, data.Schema, path);
            var loaded = new MLContext(seed: 2).Model.LoadCoCa(path, out _);
            var before = model.Transform(data).GetColumn<float[]>("Score").ToList();
            var after = loaded.Transform(data).GetColumn<float[]>("Score").ToList();
            Assert.Equal(before.Count, after.Count);
            for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
            Assert.Equal("Features", ((TransformerChain<ITransformer>)loaded).OfType<AttentionalPoolerTransformer>().Single().Info.FeatureColumnName);
        }
        finally { File.Delete(path); }
    }

    private sealed class OldRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private static SchemaDefinition OldSchema()
    {
        var schema = SchemaDefinition.Create(typeof(OldRow));
        schema[nameof(OldRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 6, 8);
        return schema;
    }
}

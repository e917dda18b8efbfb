using CoCa.MLNet.Transforms;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary><c>mlContext.MulticlassClassification.Trainers.AttentionalPooler(...)</c>.</summary>
public static class AttentionalPoolerCatalog
{
    /// <summary>
    /// A new attentional pooler + linear classifier trained over frozen tokens ([T, D] or [F, T, D] float vectors)
    /// with softmax cross-entropy; see <see cref="AttentionalPoolerOptions"/>.
    /// </summary>
    public static AttentionalPoolerTrainer AttentionalPooler(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, AttentionalPoolerOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AttentionalPoolerTrainer(CatalogEnvironment.Get(catalog), options);
    }

    /// <summary>
    /// The attentional pooler trainer with the common options; the others keep their defaults. Epochs and batch size
    /// left null are planned from the data set's size, as with <see cref="AttentionalPoolerOptions"/>'s defaults.
    /// </summary>
    public static AttentionalPoolerTrainer AttentionalPooler(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = CoCaColumnNames.Label,
        string featureColumnName = CoCaColumnNames.Tokens,
        int? numberOfEpochs = null,
        int? batchSize = null,
        double learningRate = 1e-3,
        string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AttentionalPoolerTrainer(CatalogEnvironment.Get(catalog), new AttentionalPoolerOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            NumberOfEpochs = numberOfEpochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Device = device,
        });
    }
}

using CoCa.MLNet.Transforms;
using CoCa.MLNet.Training.Classification;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary><c>mlContext.MulticlassClassification.Trainers.FineTunedCoCa(...)</c>.</summary>
public static class FineTunedCoCaCatalog
{
    /// <summary>
    /// A CoCa image encoder (from an open_clip checkpoint folder) fine-tuned together with a new attentional pooler and
    /// linear classifier, for images or videos; see <see cref="FineTunedCoCaOptions"/>. Fit returns the fine-tuned
    /// featurizer and the pooler, both scored by ONNX Runtime.
    /// </summary>
    public static FineTunedCoCaTrainer FineTunedCoCa(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, FineTunedCoCaOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FineTunedCoCaTrainer(CatalogEnvironment.Get(catalog), options);
    }
}

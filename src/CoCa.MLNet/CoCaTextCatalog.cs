using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Scoring;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>ML.NET catalog entry points for CoCa's text tower: text embeddings and zero-shot classification.</summary>
public static class CoCaTextCatalog
{
    /// <summary>
    /// Embeds a text column with CoCa's text tower: <paramref name="outputColumnName"/> gets the contrastive text
    /// embedding [E] (not normalized), in the same space as the image embedding of <c>ExtractCoCaImageFeatures</c>.
    /// <paramref name="vocabPath"/> is open_clip's <c>bpe_simple_vocab_16e6.txt.gz</c> (or a CLIP vocab.json with merges.txt).
    /// </summary>
    public static CoCaTextEmbeddingEstimator ExtractCoCaTextEmbedding(this TransformsCatalog catalog, string modelPath, string vocabPath,
        string inputColumnName = CoCa.MLNet.CoCaColumnNames.Text, string outputColumnName = CoCa.MLNet.CoCaColumnNames.TextEmbedding, int batchSize = 64) =>
        catalog.ExtractCoCaTextEmbedding(new CoCaTextEmbeddingOptions
        {
            ModelPath = modelPath,
            VocabPath = vocabPath,
            InputColumnName = inputColumnName,
            OutputColumnName = outputColumnName,
            BatchSize = batchSize,
        });

    /// <summary>Embeds a text column with CoCa's text tower, with all options.</summary>
    public static CoCaTextEmbeddingEstimator ExtractCoCaTextEmbedding(this TransformsCatalog catalog, CoCaTextEmbeddingOptions options) =>
        new(CatalogEnvironment.Get(catalog), options);

    /// <summary>
    /// Zero-shot classification of a CoCa image (or video) embedding column over <paramref name="classNames"/>, with no
    /// training: each class is the normalized mean of its prompts' text embeddings (<paramref name="templates"/>, default
    /// "a photo of a {c}."). Produces <paramref name="scoreColumnName"/> (softmax(100·cos), slot names = class names) and
    /// <paramref name="predictedLabelColumnName"/> (a key over the class names), ready for
    /// <c>mlContext.MulticlassClassification.Evaluate</c> with a Label key of the same class names.
    /// </summary>
    public static CoCaZeroShotEstimator CoCaZeroShot(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string modelPath, string vocabPath, IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null,
        string featureColumnName = CoCa.MLNet.CoCaColumnNames.Embedding, string scoreColumnName = CoCa.MLNet.CoCaColumnNames.Score, string predictedLabelColumnName = CoCa.MLNet.CoCaColumnNames.PredictedLabel) =>
        catalog.CoCaZeroShot(new CoCaZeroShotOptions
        {
            ModelPath = modelPath,
            VocabPath = vocabPath,
            ClassNames = classNames,
            Templates = templates ?? CoCaZeroShotTemplates.Default,
            FeatureColumnName = featureColumnName,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
        });

    /// <summary>Zero-shot classification with all options.</summary>
    public static CoCaZeroShotEstimator CoCaZeroShot(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, CoCaZeroShotOptions options) =>
        new(CatalogEnvironment.Get(catalog), options);
}

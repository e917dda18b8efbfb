using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Persistence;
using CoCa.MLNet;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>ML.NET catalog entry points for the CoCa image featurizer.</summary>
public static class CoCaImageFeaturizerCatalog
{
    /// <summary>
    /// Extracts CoCa image features: <paramref name="tokensColumnName"/> gets the encoder's output tokens [T, D]
    /// (the frozen features a new attentional pooler trains on), <paramref name="embeddingColumnName"/> the
    /// contrastive image embedding [E]. Pass null to leave one out.
    /// </summary>
    public static CoCaImageFeaturizerEstimator ExtractCoCaImageFeatures(this TransformsCatalog catalog, string modelPath,
        string inputColumnName = CoCaColumnNames.Image, string? tokensColumnName = CoCaColumnNames.Tokens, string? embeddingColumnName = CoCaColumnNames.Embedding, int batchSize = 32) =>
        catalog.ExtractCoCaImageFeatures(new CoCaImageFeaturizerOptions
        {
            ModelPath = modelPath,
            InputColumnName = inputColumnName,
            TokensColumnName = tokensColumnName,
            EmbeddingColumnName = embeddingColumnName,
            BatchSize = batchSize,
        });

    /// <summary>Extracts CoCa image features with all options.</summary>
    public static CoCaImageFeaturizerEstimator ExtractCoCaImageFeatures(this TransformsCatalog catalog, CoCaImageFeaturizerOptions options) =>
        new(CatalogEnvironment.Get(catalog), options);
}

/// <summary>ML.NET catalog entry points for the CoCa video featurizer.</summary>
public static class CoCaVideoFeaturizerCatalog
{
    /// <summary>
    /// Extracts CoCa video features: <paramref name="frameCount"/> frames sampled uniformly over each video go through
    /// the image encoder; <paramref name="tokensColumnName"/> gets their tokens [F, T, D], <paramref name="embeddingColumnName"/>
    /// the mean of their embeddings [E]. Pass null to leave one out.
    /// </summary>
    public static CoCaVideoFeaturizerEstimator ExtractCoCaVideoFeatures(this TransformsCatalog catalog, string modelPath,
        string inputColumnName = CoCaColumnNames.Video, int frameCount = 16, string? tokensColumnName = CoCaColumnNames.Tokens, string? embeddingColumnName = CoCaColumnNames.Embedding) =>
        catalog.ExtractCoCaVideoFeatures(new CoCaVideoFeaturizerOptions
        {
            ModelPath = modelPath,
            InputColumnName = inputColumnName,
            FrameCount = frameCount,
            TokensColumnName = tokensColumnName,
            EmbeddingColumnName = embeddingColumnName,
        });

    /// <summary>Extracts CoCa video features with all options.</summary>
    public static CoCaVideoFeaturizerEstimator ExtractCoCaVideoFeatures(this TransformsCatalog catalog, CoCaVideoFeaturizerOptions options) =>
        new(CatalogEnvironment.Get(catalog), options);
}

/// <summary><c>mlContext.Model.SaveCoCa(...)</c> / <c>LoadCoCa(...)</c>: the ML.NET-style entry points of CoCa.MLNet's model packages (one file holding every part of a model).</summary>
public static class CoCaModelOperationsExtensions
{
    public static void SaveCoCa(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema, string path) =>
        CoCaModelPackage.Save(catalog, model, inputSchema, path);

    public static ITransformer LoadCoCa(this ModelOperationsCatalog catalog, string path, out DataViewSchema? inputSchema) =>
        CoCaModelPackage.Load(catalog, path, out inputSchema);
}

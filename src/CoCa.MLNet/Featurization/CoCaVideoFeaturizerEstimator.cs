using CoCa.MLNet.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Estimator of <see cref="CoCaVideoFeaturizerTransformer"/>: videos (paths) → the tokens of F uniformly sampled
/// frames [F, T, D] (what the multi-frame attentional pooler trains on) and/or the mean frame embedding [E].
/// </summary>
public sealed class CoCaVideoFeaturizerEstimator : IEstimator<CoCaVideoFeaturizerTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly CoCaVideoFeaturizerOptions _options;

    public CoCaVideoFeaturizerEstimator(IHostEnvironment env, CoCaVideoFeaturizerOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        CoCaVideoFeaturizerTransformer.Validate(options);
    }

    public CoCaVideoFeaturizerTransformer Fit(IDataView input)
    {
        var transformer = new CoCaVideoFeaturizerTransformer(_env, _options);
        try
        {
            transformer.GetOutputSchema(input.Schema);
            return transformer;
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, _options.InputColumnName, "a video path (text) column");
        if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.ItemType is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_options.InputColumnName}' is {input.ItemType}; expected a video path (text).");
        var added = new List<SchemaShape.Column>();
        if (_options.TokensColumnName is { } tokens) added.Add(SchemaShapes.FloatVector(tokens));
        if (_options.EmbeddingColumnName is { } embedding) added.Add(SchemaShapes.FloatVector(embedding));
        return SchemaShapes.Append(inputSchema, added.ToArray());
    }
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
        string inputColumnName = "Video", int frameCount = 16, string? tokensColumnName = "Tokens", string? embeddingColumnName = "Embedding") =>
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

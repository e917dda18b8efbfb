using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Estimator of <see cref="CoCaImageFeaturizerTransformer"/>: images (paths or MLImage) → CoCa encoder tokens
/// [T, D] and/or the contrastive embedding [E]. Nothing is learned; Fit checks the schema and opens the model.
/// </summary>
public sealed class CoCaImageFeaturizerEstimator : ModelOpeningEstimator<CoCaImageFeaturizerTransformer>
{
    private readonly CoCaImageFeaturizerOptions _options;

    internal CoCaImageFeaturizerEstimator(IHostEnvironment env, CoCaImageFeaturizerOptions options)
        : base(env)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    private protected override CoCaImageFeaturizerTransformer Open() => new(_options);

    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireImageColumn(inputSchema, _options.InputColumnName);
        var added = new List<SchemaShape.Column>();
        if (_options.TokensColumnName is { } tokens) added.Add(SchemaShapes.FloatVector(tokens));
        if (_options.EmbeddingColumnName is { } embedding) added.Add(SchemaShapes.FloatVector(embedding));
        return SchemaShapes.Append(inputSchema, added.ToArray());
    }
}

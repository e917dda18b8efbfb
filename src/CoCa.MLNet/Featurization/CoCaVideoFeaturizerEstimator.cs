using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Estimator of <see cref="CoCaVideoFeaturizerTransformer"/>: videos (paths) → the tokens of F uniformly sampled
/// frames [F, T, D] (what the multi-frame attentional pooler trains on) and/or the mean frame embedding [E].
/// </summary>
public sealed class CoCaVideoFeaturizerEstimator : ModelOpeningEstimator<CoCaVideoFeaturizerTransformer>
{
    private readonly CoCaVideoFeaturizerOptions _options;

    internal CoCaVideoFeaturizerEstimator(IHostEnvironment env, CoCaVideoFeaturizerOptions options)
        : base(env)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    private protected override CoCaVideoFeaturizerTransformer Open() => new(_options);

    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
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

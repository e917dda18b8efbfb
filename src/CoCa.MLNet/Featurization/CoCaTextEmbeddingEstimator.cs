using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Estimator of <see cref="CoCaTextEmbeddingTransformer"/>: a text column → CoCa's contrastive text embedding [E].
/// Nothing is learned; Fit checks the schema and opens the model and the vocabulary.
/// </summary>
public sealed class CoCaTextEmbeddingEstimator : ModelOpeningEstimator<CoCaTextEmbeddingTransformer>
{
    private readonly CoCaTextEmbeddingOptions _options;

    internal CoCaTextEmbeddingEstimator(IHostEnvironment env, CoCaTextEmbeddingOptions options)
        : base(env)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    private protected override CoCaTextEmbeddingTransformer Open() => new(_options);

    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, _options.InputColumnName, "a text column");
        if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.ItemType is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_options.InputColumnName}' is {input.ItemType}; expected text.");
        return SchemaShapes.Append(inputSchema, SchemaShapes.FloatVector(_options.OutputColumnName));
    }
}

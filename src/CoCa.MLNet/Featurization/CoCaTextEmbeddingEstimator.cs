using CoCa.MLNet.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// Estimator of <see cref="CoCaTextEmbeddingTransformer"/>: a text column → CoCa's contrastive text embedding [E].
/// Nothing is learned; Fit checks the schema and opens the model and the vocabulary.
/// </summary>
public sealed class CoCaTextEmbeddingEstimator : IEstimator<CoCaTextEmbeddingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly CoCaTextEmbeddingOptions _options;

    public CoCaTextEmbeddingEstimator(IHostEnvironment env, CoCaTextEmbeddingOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        CoCaTextEmbeddingTransformer.Validate(options);
    }

    public CoCaTextEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = new CoCaTextEmbeddingTransformer(_env, _options);
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
        var input = SchemaShapes.Find(inputSchema, _options.InputColumnName, "a text column");
        if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.ItemType is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_options.InputColumnName}' is {input.ItemType}; expected text.");
        return SchemaShapes.Append(inputSchema, SchemaShapes.FloatVector(_options.OutputColumnName));
    }
}

using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Captioning;

/// <summary>
/// Estimator of <see cref="CoCaCaptionTransformer"/>: images (paths or MLImage) → CoCa captions (text, optionally ids).
/// Nothing is learned; Fit checks the schema and opens the models and the vocabulary.
/// </summary>
public sealed class CoCaCaptionEstimator : ModelOpeningEstimator<CoCaCaptionTransformer>
{
    private readonly CoCaCaptionOptions _options;

    internal CoCaCaptionEstimator(IHostEnvironment env, CoCaCaptionOptions options)
        : base(env)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    private protected override CoCaCaptionTransformer Open() => new(_options);

    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireImageColumn(inputSchema, _options.InputColumnName);
        var added = new List<SchemaShape.Column>
        {
            SchemaShapes.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false),
        };
        if (_options.IdsColumnName is { } ids)
            added.Add(SchemaShapes.Column(ids, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Int64, isKey: false));
        return SchemaShapes.Append(inputSchema, added.ToArray());
    }
}

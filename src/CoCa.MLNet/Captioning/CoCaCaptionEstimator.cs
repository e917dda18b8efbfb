using CoCa.MLNet.MLNet;
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

    public CoCaCaptionEstimator(IHostEnvironment env, CoCaCaptionOptions options)
        : base(env)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        CoCaCaptionTransformer.Validate(options);
    }

    private protected override CoCaCaptionTransformer Open() => new(Env, _options);

    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, _options.InputColumnName, "an image path (text) or an MLImage column");
        bool isPath = input.Kind == SchemaShape.Column.VectorKind.Scalar && input.ItemType is TextDataViewType;
        bool isImage = input.Kind == SchemaShape.Column.VectorKind.Scalar && input.ItemType.GetType().Name == "ImageDataViewType";
        if (!isPath && !isImage)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_options.InputColumnName}' is {input.ItemType}; expected an image path (text) or an MLImage.");
        var added = new List<SchemaShape.Column>
        {
            SchemaShapes.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false),
        };
        if (_options.IdsColumnName is { } ids)
            added.Add(SchemaShapes.Column(ids, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Int64, isKey: false));
        return SchemaShapes.Append(inputSchema, added.ToArray());
    }
}

using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Scoring;

/// <summary>
/// Zero-shot classification with CoCa, as an ML.NET estimator that needs no training: Fit embeds every
/// (class, template) prompt with the text tower and builds open_clip's zero-shot classifier (per class, the mean of the
/// L2-normalized prompt embeddings, re-normalized). The fitted <see cref="CoCaZeroShotTransformer"/> scores an image
/// (or video) embedding column: <c>Score</c> = softmax(LogitScale · cos) and <c>PredictedLabel</c>, a key over the
/// class names, so <c>mlContext.MulticlassClassification.Evaluate</c> works on its output.
/// </summary>
public sealed class CoCaZeroShotEstimator : IEstimator<CoCaZeroShotTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly CoCaZeroShotOptions _options;

    internal CoCaZeroShotEstimator(IHostEnvironment env, CoCaZeroShotOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>Builds the classifier (runs the text tower once over all prompts); <paramref name="input"/> is only schema-checked.</summary>
    public CoCaZeroShotTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        float[] classEmbeddings;
        int embedDim;
        using (var text = CoCaTextFeatureExtractor.Open(_options.ModelPath, _options.VocabPath, _options.Execution))
        {
            embedDim = text.EmbedDim;
            CoCaZeroShotTransformer.CheckFeatureColumn(input.Schema, _options.FeatureColumnName, embedDim);
            classEmbeddings = ComputeClassEmbeddings(text, _options.ClassNames, _options.Templates, _options.BatchSize);
        }
        using var ch = _env.Start(nameof(CoCaZeroShotEstimator));
        CatalogEnvironment.Info(ch, $"CoCa zero-shot classifier: {_options.ClassNames.Count} classes x {_options.Templates.Count} templates, embedding dim {embedDim}.");
        var transformer = new CoCaZeroShotTransformer(_options.ClassNames, _options.Templates, classEmbeddings, _options.LogitScale,
            _options.FeatureColumnName, _options.ScoreColumnName, _options.PredictedLabelColumnName, _options.LabelColumnName);
        transformer.CheckLabelColumn(input.Schema);
        return transformer;
    }

    /// <summary>
    /// open_clip's zero-shot weights: for each class, the prompts <c>template(class)</c> are embedded and L2-normalized,
    /// averaged over the templates, and the mean is L2-normalized again. Returns [K, E] row-major.
    /// </summary>
    internal static float[] ComputeClassEmbeddings(CoCaTextFeatureExtractor text, IReadOnlyList<string> classNames, IReadOnlyList<string> templates, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(text);
        ValidateClasses(classNames, templates);
        int e = text.EmbedDim, k = classNames.Count, t = templates.Count;
        var prompts = classNames.SelectMany(c => templates.Select(template => CoCaZeroShotTemplates.Apply(template, c))).ToList();
        var embeddings = text.Embed(prompts, batchSize);
        var result = new float[k * e];
        var mean = new double[e];
        for (int c = 0; c < k; c++)
        {
            Array.Clear(mean);
            for (int j = 0; j < t; j++)
            {
                var unit = EmbeddingMath.Normalized(embeddings.AsSpan((c * t + j) * e, e));
                for (int i = 0; i < e; i++) mean[i] += unit[i];
            }
            var meanF = new float[e];
            for (int i = 0; i < e; i++) meanF[i] = (float)(mean[i] / t);
            EmbeddingMath.Normalized(meanF).CopyTo(result.AsSpan(c * e));
        }
        return result;
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, _options.FeatureColumnName, "a float vector of CoCa image embeddings");
        if (input.Kind == SchemaShape.Column.VectorKind.Scalar || input.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_options.FeatureColumnName}' is {input.ItemType} ({input.Kind}); expected a float vector of CoCa image embeddings.");
        return MulticlassScoreColumns.Append(inputSchema, _options.ScoreColumnName, _options.PredictedLabelColumnName, TextDataViewType.Instance);
    }

    internal static void ValidateClasses(IReadOnlyList<string> classNames, IReadOnlyList<string> templates)
    {
        CoCaZeroShotTransformer.ValidateClassNames(classNames);
        if (templates is null || templates.Count == 0)
            throw new ArgumentException("Zero-shot classification needs at least one prompt template, e.g. \"a photo of a {c}.\".", nameof(templates));
        foreach (var template in templates)
            if (template is null || !template.Contains(CoCaZeroShotTemplates.ClassPlaceholder, StringComparison.Ordinal))
                throw new ArgumentException($"Prompt template \"{template}\" has no {CoCaZeroShotTemplates.ClassPlaceholder} placeholder for the class name.", nameof(templates));
    }
}

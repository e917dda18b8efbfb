using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// An estimator that learns nothing: Fit opens the model (ONNX sessions, vocabulary), checks the input schema
/// against it, and hands the transformer over — or disposes it when the schema does not fit.
/// </summary>
public abstract class ModelOpeningEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : class, ITransformer, IDisposable
{
    private protected ModelOpeningEstimator(IHostEnvironment env) => Env = env ?? throw new ArgumentNullException(nameof(env));

    private protected IHostEnvironment Env { get; }

    /// <summary>Opens a new transformer over the estimator's options.</summary>
    private protected abstract TTransformer Open();

    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = Open();
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

    public abstract SchemaShape GetOutputSchema(SchemaShape inputSchema);
}

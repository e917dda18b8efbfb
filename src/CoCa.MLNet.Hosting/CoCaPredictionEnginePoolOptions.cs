using Microsoft.ML.Data;

namespace CoCa.MLNet.Hosting;

/// <summary>Options of <see cref="CoCaPredictionEnginePool{TInput, TOutput}"/>.</summary>
public sealed class CoCaPredictionEnginePoolOptions
{
    /// <summary>The model file: a pipeline saved with <c>mlContext.Model.SaveCoCa</c> (e.g. by <c>coca train</c>).</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Prediction engines kept for reuse; more are made under load and disposed when returned to a full pool.</summary>
    public int MaximumRetained { get; set; } = Environment.ProcessorCount * 2;

    /// <summary>
    /// Maps the input class onto the model's input columns when their names differ (e.g. a property <c>Image</c>
    /// read as the column <c>Path</c> of a <c>coca train</c> model); null: the class's own names.
    /// </summary>
    public SchemaDefinition? InputSchemaDefinition { get; set; }

    /// <summary>Maps the output class onto the model's output columns; null: the class's own names.</summary>
    public SchemaDefinition? OutputSchemaDefinition { get; set; }

    /// <summary>
    /// Load the file again when it changes (its time or length; looked at, at most once per
    /// <see cref="ReloadCheckInterval"/>, when a prediction starts). Predictions under way finish on the old model. A
    /// file that cannot be loaded (e.g. still being written) leaves the old model serving until the next look.
    /// </summary>
    public bool ReloadOnChange { get; set; }

    /// <summary>How often <see cref="ReloadOnChange"/> looks at the file.</summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}

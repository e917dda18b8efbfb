using Microsoft.Extensions.Logging;
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
    /// read as the column <c>Path</c> of a <c>coca train</c> model). Null: the class's own names, except that an input
    /// class of one member meets a model saved with a one-column input schema (every <c>coca train</c> model: <c>Path</c>)
    /// as that column, whatever the member's name: the column is read from the model.
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

    /// <summary>
    /// Where the pool says that a changed file replaced the model, or could not be loaded (so the old one still serves):
    /// once per version of the file. Registered with <c>AddCoCaPredictionEnginePool</c>, the application's logging
    /// (<c>ILoggerFactory</c>) unless set.
    /// </summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// The most pixels (width × height) an image may declare to be scored; a larger one is refused from its header, before
    /// any pixel is decoded, with <see cref="CoCa.MLNet.Preprocessing.ImageTooLargeException"/> (a small file can declare a
    /// huge image: a 440 KB PNG of 12000×12000 decodes to 576 MB). Default 40 megapixels (a 50 MP camera photo
    /// is refused; shrink such photos before sending them). Null: no budget.
    /// </summary>
    public long? MaxImagePixels { get; set; } = DefaultMaxImagePixels;

    /// <summary>The default of <see cref="MaxImagePixels"/>: 40 megapixels.</summary>
    public const long DefaultMaxImagePixels = 40_000_000;
}

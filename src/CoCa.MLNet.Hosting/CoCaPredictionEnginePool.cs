using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace CoCa.MLNet.Hosting;

/// <summary>
/// Serves a pipeline saved with <c>SaveCoCa</c> to many threads: the file is loaded once (<c>LoadCoCa</c>), and each
/// caller borrows a <see cref="PredictionEngine{TSrc, TDst}"/> (which is not thread-safe) from a pool and gives it back.
/// Register it with <c>services.AddCoCaPredictionEnginePool&lt;TInput, TOutput&gt;(path)</c>.
/// </summary>
public sealed class CoCaPredictionEnginePool<TInput, TOutput> : IDisposable
    where TInput : class
    where TOutput : class, new()
{
    private readonly MLContext _ml = new();
    private readonly CoCaPredictionEnginePoolOptions _options;
    private readonly ObjectPool<PredictionEngine<TInput, TOutput>> _pool;

    /// <summary>Loads the model file and makes a first engine, so that a missing file or a mismatched input or output
    /// class fails here, naming the file, not at the first request.</summary>
    public CoCaPredictionEnginePool(CoCaPredictionEnginePoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw new ArgumentException("CoCaPredictionEnginePoolOptions.ModelPath is empty; expected the path of a model saved with SaveCoCa.", nameof(options));
        if (options.MaximumRetained < 1)
            throw new ArgumentException($"CoCaPredictionEnginePoolOptions.MaximumRetained must be at least 1 (got {options.MaximumRetained}).", nameof(options));
        if (!File.Exists(options.ModelPath))
            throw new FileNotFoundException($"Model file '{options.ModelPath}' does not exist; expected a pipeline saved with SaveCoCa (e.g. by coca train).", options.ModelPath);
        _options = options;
        ModelPath = options.ModelPath;
        Model = _ml.Model.LoadCoCa(options.ModelPath, out var inputSchema);
        InputSchema = inputSchema;
        _pool = new DefaultObjectPoolProvider { MaximumRetained = options.MaximumRetained }.Create(new EnginePolicy(this));
        PredictionEngine<TInput, TOutput> first;
        try
        {
            first = CreateEngine();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            (Model as IDisposable)?.Dispose();
            throw new InvalidOperationException(
                $"Model '{options.ModelPath}' cannot score {typeof(TInput).Name} into {typeof(TOutput).Name}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        OutputSchema = first.OutputSchema;
        _pool.Return(first);
    }

    /// <summary>The model file this pool serves.</summary>
    public string ModelPath { get; }

    /// <summary>The loaded pipeline (shared by all engines; do not dispose it).</summary>
    public ITransformer Model { get; }

    /// <summary>The input schema saved with the model, if any.</summary>
    public DataViewSchema? InputSchema { get; }

    /// <summary>The engines' output schema: e.g. the class names, as the slot names of a <c>Score</c> column.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Scores one example with a pooled engine; thread-safe. An engine that threw is disposed, not reused.</summary>
    public TOutput Predict(TInput example)
    {
        var engine = _pool.Get();
        TOutput result;
        try
        {
            result = engine.Predict(example);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
        _pool.Return(engine);
        return result;
    }

    /// <summary>Borrows an engine for several predictions; give it back with <see cref="ReturnPredictionEngine"/>.</summary>
    public PredictionEngine<TInput, TOutput> GetPredictionEngine() => _pool.Get();

    public void ReturnPredictionEngine(PredictionEngine<TInput, TOutput> engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _pool.Return(engine);
    }

    public void Dispose()
    {
        (_pool as IDisposable)?.Dispose();
        (Model as IDisposable)?.Dispose();
    }

    // OwnsTransformer = false: by default a PredictionEngine disposes its transformer with itself, which here is the
    // model every engine shares (its ONNX Runtime sessions); an engine dropped by a full pool would take it along.
    private PredictionEngine<TInput, TOutput> CreateEngine() =>
        _ml.Model.CreatePredictionEngine<TInput, TOutput>(Model, new PredictionEngineOptions
        {
            IgnoreMissingColumns = true,
            InputSchemaDefinition = _options.InputSchemaDefinition,
            OutputSchemaDefinition = _options.OutputSchemaDefinition,
            OwnsTransformer = false,
        });

    private sealed class EnginePolicy(CoCaPredictionEnginePool<TInput, TOutput> owner) : PooledObjectPolicy<PredictionEngine<TInput, TOutput>>
    {
        public override PredictionEngine<TInput, TOutput> Create() => owner.CreateEngine();

        public override bool Return(PredictionEngine<TInput, TOutput> obj) => true;
    }
}

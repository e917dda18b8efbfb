using CoCa.MLNet.Preprocessing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Hosting;

/// <summary>
/// Serves a pipeline saved with <c>SaveCoCa</c> to many threads: the file is loaded once (<c>LoadCoCa</c>), and each
/// prediction borrows a <see cref="PredictionEngine{TSrc, TDst}"/> (which is not thread-safe) from a pool and gives it
/// back. With <see cref="CoCaPredictionEnginePoolOptions.ReloadOnChange"/> a new file replaces the model for the
/// predictions that start after it loaded; those under way finish on the old one, which is then disposed.
/// Register it with <c>services.AddCoCaPredictionEnginePool&lt;TInput, TOutput&gt;(path)</c>.
/// </summary>
public sealed class CoCaPredictionEnginePool<TInput, TOutput> : IDisposable
    where TInput : class
    where TOutput : class, new()
{
    private readonly MLContext _ml = new();
    private readonly CoCaPredictionEnginePoolOptions _options;
    private readonly object _reloadLock = new();
    private Generation _current;
    private long _nextCheckTicks;
    private FileStamp? _failedStamp;
    private bool _disposed;

    /// <summary>Loads the model file and makes a first engine, so that a missing file or a mismatched input or output
    /// class fails here, naming the file, not at the first request.</summary>
    public CoCaPredictionEnginePool(CoCaPredictionEnginePoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw new ArgumentException("CoCaPredictionEnginePoolOptions.ModelPath is empty; expected the path of a model saved with SaveCoCa.", nameof(options));
        if (options.MaximumRetained < 1)
            throw new ArgumentException($"CoCaPredictionEnginePoolOptions.MaximumRetained must be at least 1 (got {options.MaximumRetained}).", nameof(options));
        if (options.ReloadCheckInterval < TimeSpan.Zero)
            throw new ArgumentException($"CoCaPredictionEnginePoolOptions.ReloadCheckInterval must not be negative (got {options.ReloadCheckInterval}).", nameof(options));
        if (options.MaxImagePixels < 1)
            throw new ArgumentException($"CoCaPredictionEnginePoolOptions.MaxImagePixels must be at least 1, or null for no budget (got {options.MaxImagePixels}).", nameof(options));
        if (!File.Exists(options.ModelPath))
            throw new FileNotFoundException($"Model file '{options.ModelPath}' does not exist; expected a pipeline saved with SaveCoCa (e.g. by coca train).", options.ModelPath);
        _options = options;
        ModelPath = options.ModelPath;
        _current = Load();
        _nextCheckTicks = Environment.TickCount64 + (long)options.ReloadCheckInterval.TotalMilliseconds;
    }

    /// <summary>The model file this pool serves.</summary>
    public string ModelPath { get; }

    /// <summary>The loaded pipeline, shared by all engines (do not dispose it).</summary>
    public ITransformer Model => _current.Model;

    /// <summary>The input schema saved with the model, if any.</summary>
    public DataViewSchema? InputSchema => _current.InputSchema;

    /// <summary>The engines' output schema: e.g. the class names, as the slot names of a <c>Score</c> column.</summary>
    public DataViewSchema OutputSchema => _current.OutputSchema;

    /// <summary>How many times a changed file has replaced the model (with <see cref="CoCaPredictionEnginePoolOptions.ReloadOnChange"/>).</summary>
    public int Reloads { get; private set; }

    /// <summary>
    /// Why the model file's latest version could not replace the model (the old one still serves), or null when the
    /// file serves as it is (with <see cref="CoCaPredictionEnginePoolOptions.ReloadOnChange"/>; also logged to
    /// <see cref="CoCaPredictionEnginePoolOptions.Logger"/>).
    /// </summary>
    public string? LastReloadError { get; private set; }

    /// <summary>
    /// Scores one example with a pooled engine; thread-safe. An engine that threw is disposed, not reused. An image
    /// declaring more than <see cref="CoCaPredictionEnginePoolOptions.MaxImagePixels"/> throws
    /// <see cref="ImageTooLargeException"/> before it is decoded.
    /// </summary>
    public TOutput Predict(TInput example)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_options.ReloadOnChange) ReloadIfChanged();
        var generation = Acquire();
        try
        {
            var engine = generation.Engines.Get();
            TOutput result;
            try
            {
                using var budget = _options.MaxImagePixels is { } max ? ImagePixelBudget.Use(max, "CoCaPredictionEnginePoolOptions.MaxImagePixels") : null;
                result = engine.Predict(example);
            }
            catch
            {
                engine.Dispose();
                throw;
            }
            generation.Engines.Return(engine);
            return result;
        }
        finally
        {
            generation.Release();
        }
    }

    public void Dispose()
    {
        lock (_reloadLock)
        {
            if (_disposed) return;
            _disposed = true;
            _current.Release();
        }
    }

    private Generation Acquire()
    {
        while (true)
        {
            var generation = Volatile.Read(ref _current);
            if (generation.TryAcquire()) return generation;
            ObjectDisposedException.ThrowIf(_disposed, this);   // else a reload replaced it meanwhile: take the new one
        }
    }

    private void ReloadIfChanged()
    {
        long now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextCheckTicks)) return;
        lock (_reloadLock)
        {
            if (_disposed || now < _nextCheckTicks) return;
            _nextCheckTicks = now + (long)_options.ReloadCheckInterval.TotalMilliseconds;
            if (FileStamp.Of(ModelPath) is not { } stamp || stamp == _current.Stamp || stamp == _failedStamp) return;
            Generation next;
            try
            {
                next = Load();
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // E.g. a file still being written (its stamp changes again when it is done) or a wrong file: keep serving
                // the old model, say so once for this version of the file, and look again when the file changes.
                _failedStamp = stamp;
                LastReloadError = e.Message;
                _options.Logger?.LogWarning("Model file '{ModelPath}' changed but cannot be loaded, so the model loaded before still serves: {Error}", ModelPath, e.Message);
                return;
            }
            var old = _current;
            Volatile.Write(ref _current, next);
            Reloads++;
            LastReloadError = null;
            old.Release();
            _options.Logger?.LogInformation("Model file '{ModelPath}' changed: its new version serves from now on (reload {Reloads}).", ModelPath, Reloads);
        }
    }

    private Generation Load()
    {
        var stamp = FileStamp.Of(ModelPath);
        var model = _ml.Model.LoadCoCa(ModelPath, out var inputSchema);
        var generation = new Generation(this, model, inputSchema, stamp, _options.InputSchemaDefinition ?? InputSchemaFromModel(inputSchema));
        PredictionEngine<TInput, TOutput> first;
        try
        {
            first = generation.CreateEngine();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            generation.Release();
            throw new InvalidOperationException(
                $"Model '{ModelPath}' cannot score {typeof(TInput).Name} into {typeof(TOutput).Name}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        generation.OutputSchema = first.OutputSchema;
        generation.Engines.Return(first);
        return generation;
    }

    /// <summary>
    /// A one-member input class read as the model's one input column (saved with the model), when their names differ:
    /// an <c>Image</c> property meets a <c>coca train</c> model's <c>Path</c> column without configuration.
    /// </summary>
    private static SchemaDefinition? InputSchemaFromModel(DataViewSchema? inputSchema)
    {
        var columns = inputSchema?.Where(c => !c.IsHidden).ToList();
        if (columns is not { Count: 1 }) return null;
        var definition = SchemaDefinition.Create(typeof(TInput), SchemaDefinition.Direction.Read);
        if (definition.Count != 1 || definition[0].ColumnName == columns[0].Name) return null;
        definition[0].ColumnName = columns[0].Name;
        return definition;
    }

    private readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
    {
        public static FileStamp? Of(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : null;
        }
    }

    /// <summary>One loaded model and its engines; disposed when it is no longer current and no prediction uses it.</summary>
    private sealed class Generation
    {
        private readonly CoCaPredictionEnginePool<TInput, TOutput> _owner;
        private int _leases = 1;   // the pool's own, while this is the current model

        private readonly SchemaDefinition? _inputDefinition;

        public Generation(CoCaPredictionEnginePool<TInput, TOutput> owner, ITransformer model, DataViewSchema? inputSchema, FileStamp? stamp, SchemaDefinition? inputDefinition)
        {
            _owner = owner;
            _inputDefinition = inputDefinition;
            Model = model;
            InputSchema = inputSchema;
            Stamp = stamp;
            Engines = new DefaultObjectPoolProvider { MaximumRetained = owner._options.MaximumRetained }.Create(new EnginePolicy(this));
        }

        public ITransformer Model { get; }
        public DataViewSchema? InputSchema { get; }
        public DataViewSchema OutputSchema { get; set; } = null!;
        public FileStamp? Stamp { get; }
        public ObjectPool<PredictionEngine<TInput, TOutput>> Engines { get; }

        public bool TryAcquire()
        {
            while (true)
            {
                int n = Volatile.Read(ref _leases);
                if (n == 0) return false;
                if (Interlocked.CompareExchange(ref _leases, n + 1, n) == n) return true;
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _leases) != 0) return;
            (Engines as IDisposable)?.Dispose();
            (Model as IDisposable)?.Dispose();
        }

        // OwnsTransformer = false: by default a PredictionEngine disposes its transformer with itself, which here is the
        // model every engine shares (its ONNX Runtime sessions); an engine dropped by a full pool would take it along.
        public PredictionEngine<TInput, TOutput> CreateEngine() =>
            _owner._ml.Model.CreatePredictionEngine<TInput, TOutput>(Model, new PredictionEngineOptions
            {
                IgnoreMissingColumns = true,
                InputSchemaDefinition = _inputDefinition,
                OutputSchemaDefinition = _owner._options.OutputSchemaDefinition,
                OwnsTransformer = false,
            });
    }

    private sealed class EnginePolicy(Generation generation) : PooledObjectPolicy<PredictionEngine<TInput, TOutput>>
    {
        public override PredictionEngine<TInput, TOutput> Create() => generation.CreateEngine();

        public override bool Return(PredictionEngine<TInput, TOutput> obj) => true;
    }
}

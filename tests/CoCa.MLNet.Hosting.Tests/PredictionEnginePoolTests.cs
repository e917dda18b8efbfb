using Microsoft.Extensions.DependencyInjection;

namespace CoCa.MLNet.Hosting.Tests;

/// <summary>The pool on its own: one model, engines lent to many threads, clear errors for a wrong file or classes.</summary>
[Collection(TinyClassifierCollection.Name)]
public sealed class PredictionEnginePoolTests(TinyClassifier classifier)
{
    [FixtureFact]
    public void ManyThreads_ShareOneModel_AndGetThePipelinesPredictions()
    {
        using var services = new ServiceCollection()
            .AddCoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(classifier.ModelPath, o =>
            {
                o.MaximumRetained = 2;
                o.InputSchemaDefinition = TinyClassifier.InputSchema();
            })
            .BuildServiceProvider();
        var pool = services.GetRequiredService<CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>>();
        Assert.Same(pool, services.GetRequiredService<CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>>());

        var results = new TinyClassifier.Scored[4 * classifier.Images.Length];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            n => results[n] = pool.Predict(new TinyClassifier.Row { Image = classifier.Images[n % classifier.Images.Length] }));
        for (int n = 0; n < results.Length; n++)
        {
            var expected = classifier.Expected[n % classifier.Images.Length];
            Assert.Equal(expected.PredictedLabel, results[n].PredictedLabel);
            Assert.Equal(expected.Score.Length, results[n].Score.Length);
            for (int k = 0; k < expected.Score.Length; k++)
                Assert.True(Math.Abs(expected.Score[k] - results[n].Score[k]) <= 1e-5f, $"row {n} class {k}: {results[n].Score[k]} vs {expected.Score[k]}");
        }
    }

    /// <summary>Two members, neither named as the model's column: which one is the image is not for the pool to guess.</summary>
    private sealed class WrongInput
    {
        public string Photo { get; set; } = "";
        public string Caption { get; set; } = "";
    }

    [FixtureFact]
    public void InputClassWithoutTheModelsColumn_FailsAtStart_NamingTheModel()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new CoCaPredictionEnginePool<WrongInput, TinyClassifier.Scored>(new() { ModelPath = classifier.ModelPath }));
        Assert.StartsWith($"Model '{classifier.ModelPath}' cannot score WrongInput into Scored:", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [FixtureFact]
    public void AOneMemberInputClass_IsReadAsTheModelsOneInputColumn()
    {
        // Row has one member, Image; a coca train model reads one column, Path: no schema definition needed.
        using var pool = new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new() { ModelPath = classifier.ModelPath });
        Assert.Equal(classifier.Expected.Select(e => e.PredictedLabel),
            classifier.Images.Select(i => pool.Predict(new TinyClassifier.Row { Image = i }).PredictedLabel));
    }

    [FixtureFact]
    public void MaxImagePixels_RefusesLargerImagesFromTheirHeader_WithinThePoolOnly()
    {
        var image = classifier.Images[0];
        using var strict = new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new() { ModelPath = classifier.ModelPath, MaxImagePixels = 100 });
        var e = Assert.ThrowsAny<Exception>(() => strict.Predict(new TinyClassifier.Row { Image = image }));
        var tooLarge = Assert.IsType<CoCa.MLNet.Preprocessing.ImageTooLargeException>(e.GetBaseException());
        Assert.Equal(image, tooLarge.Image);
        Assert.Equal(100, tooLarge.MaxPixels);
        Assert.Contains($"Image '{image}' is {tooLarge.Width}x{tooLarge.Height}", tooLarge.Message);
        Assert.Contains("(CoCaPredictionEnginePoolOptions.MaxImagePixels)", tooLarge.Message);

        // The budget is the pool's: the same image scores in a pool without one, and outside any pool.
        using var open = new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new() { ModelPath = classifier.ModelPath, MaxImagePixels = null });
        Assert.Equal(classifier.Expected[0].PredictedLabel, open.Predict(new TinyClassifier.Row { Image = image }).PredictedLabel);
        var ml = new Microsoft.ML.MLContext();
        var rows = ml.Data.LoadFromEnumerable([new TinyClassifier.Row { Image = image }], TinyClassifier.InputSchema());
        Assert.Equal(classifier.Expected[0].PredictedLabel, ml.Data.CreateEnumerable<TinyClassifier.Scored>(strict.Model.Transform(rows), reuseRowObject: false).Single().PredictedLabel);

        var bad = Assert.Throws<ArgumentException>(() => new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new() { ModelPath = classifier.ModelPath, MaxImagePixels = 0 }));
        Assert.StartsWith("CoCaPredictionEnginePoolOptions.MaxImagePixels must be at least 1", bad.Message);
    }

    [FixtureFact]
    public void ReloadOnChange_ServesTheNewFile_AfterItChanges()
    {
        var dir = Directory.CreateTempSubdirectory("coca-reload-").FullName;
        try
        {
            var path = Path.Combine(dir, "served.zip");
            File.Copy(classifier.ModelPath, path);
            var logger = new ListLogger();
            using var pool = new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new()
            {
                ModelPath = path, InputSchemaDefinition = TinyClassifier.InputSchema(), ReloadOnChange = true, ReloadCheckInterval = TimeSpan.Zero,
                Logger = logger,
            });
            string Label(int i) => pool.Predict(new TinyClassifier.Row { Image = classifier.Images[i] }).PredictedLabel;
            Assert.Equal(classifier.Expected.Select(e => e.PredictedLabel), classifier.Images.Select((_, i) => Label(i)));

            // A file that cannot be loaded (half written) leaves the old model serving, and says so once.
            File.WriteAllBytes(path, [0x50, 0x4B, 0x03]);
            Assert.Equal(classifier.Expected[0].PredictedLabel, Label(0));
            Assert.Equal(classifier.Expected[0].PredictedLabel, Label(0));
            Assert.Equal(0, pool.Reloads);
            Assert.Contains(path, pool.LastReloadError);
            var warning = Assert.Single(logger.Lines);
            Assert.StartsWith($"Warning: Model file '{path}' changed but cannot be loaded, so the model loaded before still serves: ", warning);

            var (renamed, expected) = classifier.Renamed;
            File.Copy(renamed, path, overwrite: true);
            var labels = classifier.Images.Select((_, i) => Label(i)).ToList();
            Assert.Equal(expected.Select(e => e.PredictedLabel), labels);
            Assert.All(labels, l => Assert.Contains(l, new[] { "landscape", "portrait" }));
            Assert.Equal(1, pool.Reloads);
            Assert.Null(pool.LastReloadError);
            Assert.StartsWith($"Information: Model file '{path}' changed: its new version serves", logger.Lines[^1]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>Errors that need no trained classifier (outside the collection, whose fixture trains one from ../shared).</summary>
public sealed class PredictionEnginePoolErrorTests
{
    [Fact]
    public void MissingFile_IsOneClearLine()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-classifier.zip");
        var e = Assert.Throws<FileNotFoundException>(() => new CoCaPredictionEnginePool<TinyClassifier.Row, TinyClassifier.Scored>(new() { ModelPath = path }));
        Assert.Equal($"Model file '{path}' does not exist; expected a pipeline saved with SaveCoCa (e.g. by coca train).", e.Message);
    }
}

/// <summary>Keeps what the pool logs, one "Level: message" line each.</summary>
internal sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}

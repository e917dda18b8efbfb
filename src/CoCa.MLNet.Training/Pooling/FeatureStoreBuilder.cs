using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Fills the <see cref="FeatureStore"/> of an <see cref="AttentionalPoolerTrainer"/> Fit from the input's features
/// column: from a matching file of <see cref="AttentionalPoolerOptions.FeatureCacheDirectory"/> when there is one;
/// otherwise read once (running any upstream encoder once per example) into memory, or to disk past the memory budget
/// or when caching. The cache key starts with the rows' identities, which the label pass hashes
/// (<see cref="RowHasher"/>), so the features column is read only when the cache misses.
/// </summary>
internal sealed class FeatureStoreBuilder : IDisposable
{
    private readonly IDataView _input;
    private readonly AttentionalPoolerOptions _options;
    private readonly TokenShape _shape;
    private readonly string _tempDirectory;
    private readonly FeatureCacheKey _key;

    /// <summary>
    /// Starts the cache key of <paramref name="input"/>'s features (validated <paramref name="options"/>, tokens of
    /// <paramref name="shape"/>); a store past the memory budget goes to <paramref name="tempDirectory"/> without a cache
    /// directory (<see cref="TempDirectory"/>).
    /// </summary>
    public FeatureStoreBuilder(IDataView input, AttentionalPoolerOptions options, TokenShape shape, string tempDirectory)
    {
        _input = input;
        _options = options;
        _shape = shape;
        _tempDirectory = tempDirectory;
        _key = new FeatureCacheKey(options.FeatureColumnName, shape);
        IdentityColumns = options.FeatureCacheDirectory is null ? [] : FeatureCacheKey.SelectIdentityColumns(input.Schema, options.FeatureCacheKeyColumnNames, options.FeatureColumnName, options.LabelColumnName);
    }

    /// <summary>The columns that identify the encoder's inputs (none without a cache directory): the label pass reads them too.</summary>
    public IReadOnlyList<DataViewSchema.Column> IdentityColumns { get; }

    /// <summary>For <see cref="TrainingDataReader.ReadLabels"/>: adds each row's identity to the cache key; null when no column identifies the rows.</summary>
    public Func<DataViewRow, Action>? RowHasher => IdentityColumns.Count > 0
        ? row => _key.CreateRowHasher(row, IdentityColumns, FeatureCacheKey.InputFiles(_input.Schema[_options.FeatureColumnName]))
        : null;

    /// <summary>
    /// The float16 features of the <paramref name="count"/> rows (after the label pass); <paramref name="fromCache"/>: a cache
    /// file was reused. <paramref name="checkAlive"/> runs before each row is read (it throws to stop).
    /// </summary>
    public FeatureStore Build(int count, IChannel ch, Action checkAlive, out bool fromCache)
    {
        var o = _options;
        fromCache = false;
        long budget = MemoryBudget(o.MemoryBudgetBytes);
        if (o.FeatureCacheDirectory is not null && IdentityColumns.Count > 0)
        {
            _key.AddInt(count);
            AddEncoderFingerprint();
            var digest = _key.Finish();
            var cachePath = Path.Combine(o.FeatureCacheDirectory, FeatureCacheKey.ToFileName(digest));
            var cached = FileFeatureStore.TryOpen(cachePath, _shape, count, digest);
            if (cached is not null)
            {
                fromCache = true;
                CatalogEnvironment.Info(ch, $"Attentional pooler: reusing feature cache '{cachePath}'.");
                FeatureCacheFolder.Tidy(o.FeatureCacheDirectory, cachePath, o.FeatureCacheLimitBytes, ch);
                return cached;
            }
            using var writer = new FeatureStoreWriter(_shape, o.FeatureColumnName, budget, _tempDirectory, o.FeatureCacheDirectory);
            TrainingDataReader.ReadFeatures(_input, o.FeatureColumnName, _shape, count, (row, index) =>
            {
                checkAlive();
                writer.Append(row, index);
            });
            var written = writer.Complete(digest, cachePath);
            FeatureCacheFolder.Tidy(o.FeatureCacheDirectory, cachePath, o.FeatureCacheLimitBytes, ch);
            return written;
        }
        if (o.FeatureCacheDirectory is not null)
        {
            // Nothing but the features identifies the rows: key the cache by their values (verified, then kept once).
            _key.AddInt(count);
            using var writer = new FeatureStoreWriter(_shape, o.FeatureColumnName, budget, _tempDirectory, o.FeatureCacheDirectory);
            TrainingDataReader.ReadFeatures(_input, o.FeatureColumnName, _shape, count, (row, index) =>
            {
                checkAlive();
                writer.Append(row, index);
                _key.AddFloats(row);
            });
            var digest = _key.Finish();
            var cachePath = Path.Combine(o.FeatureCacheDirectory, FeatureCacheKey.ToFileName(digest));
            var written = writer.Complete(digest, cachePath);
            FeatureCacheFolder.Tidy(o.FeatureCacheDirectory, cachePath, o.FeatureCacheLimitBytes, ch);
            return written;
        }
        using (var writer = new FeatureStoreWriter(_shape, o.FeatureColumnName, budget, _tempDirectory, cacheDirectory: null, expectedRows: count))
        {
            TrainingDataReader.ReadFeatures(_input, o.FeatureColumnName, _shape, count, (row, index) =>
            {
                checkAlive();
                writer.Append(row, index);
            });
            return writer.Complete([]);
        }
    }

    /// <summary>What made the features: the featurizer's fingerprint annotation, or else the first rows' values.</summary>
    private void AddEncoderFingerprint()
    {
        var col = _input.Schema[_options.FeatureColumnName];
        if (col.Annotations.Schema.GetColumnOrNull(FeatureCacheKey.EncoderFingerprintAnnotation) is { Type: TextDataViewType })
        {
            ReadOnlyMemory<char> text = default;
            col.Annotations.GetValue(FeatureCacheKey.EncoderFingerprintAnnotation, ref text);
            _key.AddText("annotation:" + text);
            return;
        }
        _key.AddText("probe");
        TrainingDataReader.ReadFeatures(_input, _options.FeatureColumnName, _shape, FeatureCacheKey.ProbeRows, (row, _) => _key.AddFloats(row));
    }

    /// <summary>The bytes of features held in memory: <paramref name="given"/>, or a quarter of the memory available (at least 256 MiB).</summary>
    internal static long MemoryBudget(long? given) => given ?? Math.Max(1L << 28, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);

    /// <summary>The MLContext's temporary folder (its TempFilePath, not public on the interface), else the system's.</summary>
    internal static string TempDirectory(IHostEnvironment env) =>
        env.GetType().GetProperty("TempFilePath")?.GetValue(env) as string is { Length: > 0 } t ? t : Path.GetTempPath();

    public void Dispose() => _key.Dispose();
}

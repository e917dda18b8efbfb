using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>
/// The float16 feature cache: the frozen encoder runs once per example, a later Fit on the same inputs and encoder
/// reuses the file, and any change of inputs or encoder makes a new one.
/// </summary>
public sealed class FeatureCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "coca-cache-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    public sealed class Source
    {
        public string Path { get; set; } = "";
        public string Label { get; set; } = "";
    }

    /// <summary>
    /// A stand-in for a frozen image encoder, batched like the CoCa featurizers (BatchedMappingDataView): deterministic
    /// tokens [4, 8] from the path; counts the examples it encodes. With a fingerprint it annotates its tokens column
    /// as the CoCa featurizers do.
    /// </summary>
    private sealed class CountingEncoder(float version, string? fingerprint = null) : CoCa.MLNet.MLNet.IBatchMapper
    {
        public int Calls;

        public string InputColumnName => "Path";

        public IReadOnlyList<CoCa.MLNet.MLNet.OutputColumn> Outputs =>
        [
            new("Features", new VectorDataViewType(NumberDataViewType.Single, 4, 8),
                fingerprint is null ? null : CoCa.MLNet.Featurization.EncoderFingerprint.Annotations(new Lazy<string>(fingerprint))),
        ];

        public void CheckInputSchema(DataViewSchema inputSchema) { }

        public Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(inputColumn);
            ReadOnlyMemory<char> path = default;
            return () =>
            {
                getter(ref path);
                return path.ToString();
            };
        }

        public object[][] MapBatch(IReadOnlyList<object> inputs)
        {
            Interlocked.Add(ref Calls, inputs.Count);
            return inputs.Select(i =>
            {
                var path = (string)i;
                var r = new Random(path.GetHashCode(StringComparison.Ordinal) ^ 12345);
                bool b = int.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), out var n) && n % 2 == 1;   // class "b" rows
                return new object[] { Enumerable.Range(0, 32).Select(j => (float)r.NextDouble() * version + (b && j < 8 ? 1f : 0f)).ToArray() };
            }).ToArray();
        }
    }

    private static List<Source> Rows(int count, string prefix = "img") =>
        Enumerable.Range(0, count).Select(i => new Source { Path = $"{prefix}/{i}.png", Label = i % 2 == 0 ? "a" : "b" }).ToList();

    private AttentionalPoolerTrainer.FitResult Train(MLContext ml, List<Source> rows, CountingEncoder encoder)
    {
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        // Batches of ProbeRows: the encoder fingerprint probe then encodes exactly the probed rows.
        var encoded = new CoCa.MLNet.MLNet.BatchedMappingDataView(data, encoder, FeatureCacheKey.ProbeRows);
        var trainer = ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions
        {
            NumberOfEpochs = 2, BatchSize = 8, Seed = 3, FeatureCacheDirectory = _dir,
        });
        return trainer.Train(encoded);
    }

    [Fact]
    public void FingerprintedEncoder_CacheIsReusedWithoutEncodingAnything()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(24);
        var encoder = new CountingEncoder(1f, fingerprint: "encoder-1");
        Assert.False(Train(ml, rows, encoder).FeaturesFromCache);
        Assert.Equal(24, encoder.Calls);

        encoder.Calls = 0;
        Assert.True(Train(ml, rows, encoder).FeaturesFromCache);
        Assert.Equal(0, encoder.Calls);

        var other = new CountingEncoder(1f, fingerprint: "encoder-2");
        Assert.False(Train(ml, rows, other).FeaturesFromCache);
        Assert.Equal(24, other.Calls);
    }

    [Fact]
    public void SecondFit_ReusesTheCache_RunningTheEncoderOnlyForItsFingerprint()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(40);
        var encoder = new CountingEncoder(1f);
        var first = Train(ml, rows, encoder);
        Assert.False(first.FeaturesFromCache);
        Assert.True(first.FeaturesOnDisk);
        Assert.Equal(40 + FeatureCacheKey.ProbeRows, encoder.Calls);
        Assert.Single(Directory.GetFiles(_dir, "*.f16"));

        encoder.Calls = 0;
        var second = Train(ml, rows, encoder);
        Assert.True(second.FeaturesFromCache);
        Assert.Equal(FeatureCacheKey.ProbeRows, encoder.Calls);
        foreach (var (name, values) in first.Weights.Tensors)
            Assert.True(values.AsSpan().SequenceEqual(second.Weights.Tensors[name]), $"weights '{name}' differ after training from the cache");
    }

    [Fact]
    public void OtherEncoderOrOtherInputs_GetTheirOwnCache()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(30);
        Train(ml, rows, new CountingEncoder(1f));

        var otherEncoder = new CountingEncoder(2f);
        Assert.False(Train(ml, rows, otherEncoder).FeaturesFromCache);
        Assert.Equal(30 + FeatureCacheKey.ProbeRows, otherEncoder.Calls);

        var sameEncoder = new CountingEncoder(1f);
        var otherRows = Rows(30);
        otherRows[29].Path = "img/other.png";   // the first rows (the fingerprint) are unchanged
        Assert.False(Train(ml, otherRows, sameEncoder).FeaturesFromCache);
        Assert.Equal(30 + FeatureCacheKey.ProbeRows, sameEncoder.Calls);
        Assert.Equal(3, Directory.GetFiles(_dir, "*.f16").Length);
    }

    [Fact]
    public void DamagedCacheFile_IsNotUsed()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(20);
        Train(ml, rows, new CountingEncoder(1f));
        var file = Directory.GetFiles(_dir, "*.f16").Single();
        using (var fs = new FileStream(file, FileMode.Open)) fs.SetLength(fs.Length - 2);
        var encoder = new CountingEncoder(1f);
        Assert.False(Train(ml, rows, encoder).FeaturesFromCache);
        Assert.Equal(20 + FeatureCacheKey.ProbeRows, encoder.Calls);
        Assert.True(Train(ml, rows, encoder).FeaturesFromCache);
    }
}

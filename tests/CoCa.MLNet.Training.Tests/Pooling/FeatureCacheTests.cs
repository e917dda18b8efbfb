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

    public sealed class Encoded
    {
        [VectorType(4, 8)] public float[] Features { get; set; } = [];
    }

    /// <summary>A stand-in for a frozen image encoder: deterministic tokens from the path; counts its calls.</summary>
    private sealed class CountingEncoder(float version)
    {
        public int Calls;

        public void Encode(Source input, Encoded output)
        {
            Interlocked.Increment(ref Calls);
            var r = new Random(input.Path.GetHashCode(StringComparison.Ordinal) ^ 12345);
            output.Features = Enumerable.Range(0, 32).Select(i => (float)r.NextDouble() * version + (input.Label == "b" && i < 8 ? 1f : 0f)).ToArray();
        }
    }

    private static List<Source> Rows(int count, string prefix = "img") =>
        Enumerable.Range(0, count).Select(i => new Source { Path = $"{prefix}/{i}.png", Label = i % 2 == 0 ? "a" : "b" }).ToList();

    private AttentionalPoolerTrainer.FitResult Train(MLContext ml, List<Source> rows, CountingEncoder encoder)
    {
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.CustomMapping<Source, Encoded>(encoder.Encode, contractName: null));
        var encoded = pipeline.Fit(data).Transform(data);
        var trainer = ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions
        {
            NumberOfEpochs = 2, BatchSize = 8, Seed = 3, FeatureCacheDirectory = _dir,
        });
        return trainer.Train(encoded);
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

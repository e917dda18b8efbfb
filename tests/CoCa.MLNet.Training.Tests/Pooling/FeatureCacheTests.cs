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
    private sealed class CountingEncoder(float version, string? fingerprint = null, string? folder = null) : CoCa.MLNet.Transforms.IBatchMapper
    {
        public int Calls;

        public string InputColumnName => "Path";

        public IReadOnlyList<CoCa.MLNet.Transforms.OutputColumn> Outputs =>
        [
            new(CoCaColumnNames.Tokens, new VectorDataViewType(NumberDataViewType.Single, 4, 8),
                fingerprint is null ? null : CoCa.MLNet.Featurization.EncoderFingerprint.Annotations(new Lazy<string>(fingerprint), "Path", folder)),
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

    private AttentionalPoolerTrainer.FitResult Train(MLContext ml, List<Source> rows, CountingEncoder encoder, string? cacheDirectory = null, long? limit = null)
    {
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        // Batches of ProbeRows: the encoder fingerprint probe then encodes exactly the probed rows.
        var encoded = new CoCa.MLNet.Transforms.BatchedMappingDataView(data, encoder, FeatureCacheKey.ProbeRows);
        var trainer = ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions
        {
            NumberOfEpochs = 2, BatchSize = 8, Seed = 3, FeatureCacheDirectory = cacheDirectory ?? _dir, FeatureCacheLimitBytes = limit,
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

    /// <summary>Writes <paramref name="count"/> files of 64 bytes each (equal sizes) under <paramref name="folder"/>; returns their names.</summary>
    private static List<string> WriteFiles(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var name = $"{i}.png";
            File.WriteAllBytes(System.IO.Path.Combine(folder, name), Enumerable.Range(0, 64).Select(j => (byte)(i * 31 + j)).ToArray());
            names.Add(name);
        }
        return names;
    }

    /// <summary>Swaps the bytes of two files of equal size and gives both back their modification times: only the contents differ.</summary>
    private static void SwapContents(string a, string b)
    {
        var (ta, tb) = (File.GetLastWriteTimeUtc(a), File.GetLastWriteTimeUtc(b));
        var (ba, bb) = (File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(ba.Length, bb.Length);
        File.WriteAllBytes(a, bb);
        File.WriteAllBytes(b, ba);
        File.SetLastWriteTimeUtc(a, ta);
        File.SetLastWriteTimeUtc(b, tb);
    }

    [Fact]
    public void FilesWhoseBytesChangedUnderTheSameNames_AreFeaturizedAgain()
    {
        var ml = new MLContext(seed: 1);
        var images = System.IO.Path.Combine(_dir, "images");
        var rows = WriteFiles(images, 16).Select((n, i) => new Source { Path = System.IO.Path.Combine(images, n), Label = i % 2 == 0 ? "a" : "b" }).ToList();
        var cache = System.IO.Path.Combine(_dir, "cache");
        var encoder = new CountingEncoder(1f, fingerprint: "encoder-1");
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
        Assert.True(Train(ml, rows, encoder, cache).FeaturesFromCache);

        SwapContents(rows[0].Path, rows[1].Path);   // same names, same sizes, same modification times
        encoder.Calls = 0;
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
        Assert.Equal(16, encoder.Calls);
        Assert.True(Train(ml, rows, encoder, cache).FeaturesFromCache);
    }

    [Fact]
    public void PathsRelativeToTheFeaturizersFolder_AreKeyedByTheirContents()
    {
        var ml = new MLContext(seed: 1);
        var images = System.IO.Path.Combine(_dir, "relative");
        var rows = WriteFiles(images, 12).Select((n, i) => new Source { Path = n, Label = i % 2 == 0 ? "a" : "b" }).ToList();
        var cache = System.IO.Path.Combine(_dir, "cache");
        var encoder = new CountingEncoder(1f, fingerprint: "encoder-1", folder: images);
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
        Assert.True(Train(ml, rows, encoder, cache).FeaturesFromCache);
        SwapContents(System.IO.Path.Combine(images, rows[2].Path), System.IO.Path.Combine(images, rows[5].Path));
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
    }

    [Fact]
    public void FrameFolders_AreKeyedByTheirFramesContents()
    {
        var ml = new MLContext(seed: 1);
        var videos = System.IO.Path.Combine(_dir, "videos");
        var rows = Enumerable.Range(0, 8).Select(i =>
        {
            var folder = System.IO.Path.Combine(videos, $"clip{i}");
            WriteFiles(folder, 3);
            return new Source { Path = folder, Label = i % 2 == 0 ? "a" : "b" };
        }).ToList();
        var cache = System.IO.Path.Combine(_dir, "cache");
        var encoder = new CountingEncoder(1f, fingerprint: "encoder-1");
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
        Assert.True(Train(ml, rows, encoder, cache).FeaturesFromCache);
        SwapContents(System.IO.Path.Combine(rows[3].Path, "0.png"), System.IO.Path.Combine(rows[3].Path, "2.png"));   // frame order changed
        Assert.False(Train(ml, rows, encoder, cache).FeaturesFromCache);
    }

    [Fact]
    public void AbandonedPartialFiles_AreRemovedByTheNextRun_AndOnesInUseAreLeft()
    {
        var ml = new MLContext(seed: 1);
        Directory.CreateDirectory(_dir);
        var abandoned = System.IO.Path.Combine(_dir, "coca-features-0123456789abcdef0123456789abcdef.partial");
        File.WriteAllBytes(abandoned, new byte[100]);   // what a killed run leaves
        var inUse = System.IO.Path.Combine(_dir, "coca-features-fedcba9876543210fedcba9876543210.partial");
        using (var writing = File.Open(inUse, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))   // as a running writer holds its file
        {
            Train(ml, Rows(12), new CountingEncoder(1f, fingerprint: "encoder-1"));
            Assert.False(File.Exists(abandoned));
            Assert.True(File.Exists(inUse));
        }
        Assert.Equal([inUse], Directory.GetFiles(_dir, "*.partial"));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void ACacheLimit_RemovesTheLeastRecentlyUsedFiles_KeepsTheOneInUse_AndSaysWhatTheFolderHolds()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.RawMessage.StartsWith("Feature cache", StringComparison.Ordinal)) lock (log) log.Add(e.RawMessage); };
        var rows = Rows(24);
        long fileBytes = FileFeatureStore.HeaderBytes + 24 * 4 * 8 * sizeof(ushort);
        long limit = 2 * fileBytes;
        CountingEncoder Encoder(int n) => new(1f, fingerprint: $"encoder-{n}");

        Assert.False(Train(ml, rows, Encoder(1), limit: limit).FeaturesFromCache);
        Assert.False(Train(ml, rows, Encoder(2), limit: limit).FeaturesFromCache);
        Assert.Equal($"Feature cache '{_dir}': 2 files, {CoCa.MLNet.IO.ByteSize.Format(limit)} (limit {CoCa.MLNet.IO.ByteSize.Format(limit)}).", log[^1]);
        Assert.False(Train(ml, rows, Encoder(3), limit: limit).FeaturesFromCache);   // encoder 1's file goes
        Assert.EndsWith("; removed the 1 least recently used (5.5 KiB).", log[^1]);
        Assert.Equal(2, Directory.GetFiles(_dir, "*.f16").Length);

        Assert.True(Train(ml, rows, Encoder(2), limit: limit).FeaturesFromCache);     // reused: now the most recently used
        Assert.False(Train(ml, rows, Encoder(4), limit: limit).FeaturesFromCache);    // so encoder 3's file goes, not 2's
        Assert.True(Train(ml, rows, Encoder(2), limit: limit).FeaturesFromCache);
        Assert.False(Train(ml, rows, Encoder(1), limit: limit).FeaturesFromCache);
        Assert.Equal(2, Directory.GetFiles(_dir, "*.f16").Length);

        // Under a limit smaller than one file, the file in use stays (and the line says so); without a limit, nothing goes.
        Assert.False(Train(ml, rows, Encoder(5), limit: 1000).FeaturesFromCache);
        Assert.Single(Directory.GetFiles(_dir, "*.f16"));
        Assert.EndsWith("; still over it: the file in use (5.5 KiB) is kept.", log[^1]);
        Assert.False(Train(ml, rows, Encoder(6)).FeaturesFromCache);
        Assert.Equal(2, Directory.GetFiles(_dir, "*.f16").Length);
        Assert.Equal($"Feature cache '{_dir}': 2 files, 11 KiB.", log[^1]);
    }
}

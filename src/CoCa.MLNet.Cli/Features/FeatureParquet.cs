using CoCa.MLNet.IO;
using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace CoCa.MLNet.Cli.Features;

/// <summary>
/// CoCa features as a Parquet file (columnar, readable by pandas/pyarrow/Spark): one row per input with
/// <c>path</c> (string), <c>label</c> (string, null when unknown) and <c>features</c> (list&lt;float&gt;, row-major
/// tokens [T, D], video tokens [F, T, D] or an embedding [E]). File metadata: <c>coca.output</c> (tokens|embedding),
/// <c>coca.shape</c> (the per-row shape, comma-separated), <c>coca.encoder_fingerprint</c>, and where the rows sit in
/// the featurize run's input list (<see cref="FeatureShard"/>), and for a shard <c>coca.inputs_contents_sha256</c> (what
/// its inputs held, <see cref="FeatureShard.HashContents"/>). One row group per appended batch, so readers stream.
/// </summary>
internal static class FeatureParquet
{
    public const string PathColumn = "path", LabelColumn = "label", FeaturesColumn = "features";
    public const string OutputKey = "coca.output", ShapeKey = "coca.shape", FingerprintKey = "coca.encoder_fingerprint";

    /// <summary>Metadata key of <see cref="FeatureShard.HashContents"/> of the inputs a shard file was written from.</summary>
    public const string ContentsKey = "coca.inputs_contents_sha256";

    internal static readonly DataField PathField = new DataField<string>(PathColumn, nullable: false);
    internal static readonly DataField LabelField = new DataField<string>(LabelColumn, nullable: true);
    internal static readonly DataField FeaturesField = new DataField(FeaturesColumn, typeof(float), isNullable: false, isArray: true);

    public static readonly ParquetSchema Schema = new(PathField, LabelField, FeaturesField);

    /// <summary>What a feature file holds, from its footer.</summary>
    public sealed record Info(string Output, int[] Shape, string? Fingerprint, long Rows, int RowGroups, FeatureShard? Shard, string? ContentsHash = null)
    {
        public int Length => Shape.Aggregate(1, (a, b) => a * b);
    }

    public static Info ReadInfo(string path)
    {
        try
        {
            var reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
            try { return InfoOf(reader, path); }
            finally { Close(reader); }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a CoCa feature Parquet file: {e.Message}", e);
        }
    }

    private static Info InfoOf(ParquetReader reader, string path)
    {
        var meta = reader.CustomMetadata;
        if (meta is null || !meta.TryGetValue(ShapeKey, out var shapeText) || !meta.TryGetValue(OutputKey, out var output))
            throw new InvalidDataException($"'{path}' is not a CoCa feature Parquet file (no {ShapeKey}/{OutputKey} metadata; write it with `coca featurize --format parquet`).");
        var shape = shapeText.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long rows = 0;
        for (int g = 0; g < reader.RowGroupCount; g++) rows += reader.OpenRowGroupReader(g).RowCount;
        return new Info(output, shape, meta.GetValueOrDefault(FingerprintKey), rows, reader.RowGroupCount, FeatureShard.ReadFrom(meta, path),
            meta.GetValueOrDefault(ContentsKey));
    }

    /// <summary>The rows of one row group: paths, labels and the features [rows, length] row-major.</summary>
    public static (string[] Paths, string?[] Labels, float[] Features) ReadRowGroup(ParquetReader reader, int group, int length)
    {
        var rg = reader.OpenRowGroupReader(group);
        int rows = checked((int)rg.RowCount);
        var paths = new string?[rows];
        var labels = new string?[rows];
        var features = new float[checked(rows * length)];
        rg.ReadAsync(PathField, paths.AsMemory()).GetAwaiter().GetResult();
        rg.ReadAsync(LabelField, labels.AsMemory()).GetAwaiter().GetResult();
        var repetition = new int[features.Length];
        var definition = new int[features.Length];
        rg.ReadRawAsync(FeaturesField, features.AsMemory(), definition.AsMemory(), repetition.AsMemory()).GetAwaiter().GetResult();
        int rowStarts = 0;
        foreach (int r in repetition) if (r == 0) rowStarts++;
        if (rowStarts != rows)
            throw new InvalidDataException($"Row group {group}: {rows} rows but {rowStarts} feature lists; every row must hold {length} values.");
        return (paths.Select(p => p ?? "").ToArray(), labels, features);
    }

    /// <summary>Parquet.Net's readers and writers are only async-disposable.</summary>
    internal static void Close(IAsyncDisposable d) => d.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Paths of every row, in order (to check whether a shard is already done).</summary>
    public static List<string> ReadPaths(string path)
    {
        var reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        try
        {
            var result = new List<string>();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                var rg = reader.OpenRowGroupReader(g);
                var paths = new string?[rg.RowCount];
                rg.ReadAsync(PathField, paths.AsMemory()).GetAwaiter().GetResult();
                result.AddRange(paths.Select(p => p ?? ""));
            }
            return result;
        }
        finally { Close(reader); }
    }
}

/// <summary>Writes a <see cref="FeatureParquet"/> file batch by batch through an <see cref="AtomicFile"/>; <see cref="Commit"/> moves it into place.</summary>
internal sealed class FeatureParquetWriter : IDisposable
{
    private readonly AtomicFile _file;
    private readonly int _length;
    private readonly Dictionary<string, string> _metadata;
    private ParquetWriter? _writer;

    public FeatureParquetWriter(string path, string output, int[] shape, string? fingerprint, FeatureShard? shard = null)
    {
        _length = shape.Aggregate(1, (a, b) => a * b);
        _file = new AtomicFile(path);
        _writer = ParquetWriter.CreateAsync(FeatureParquet.Schema, _file.Stream).GetAwaiter().GetResult();
        var meta = new Dictionary<string, string>
        {
            [FeatureParquet.OutputKey] = output,
            [FeatureParquet.ShapeKey] = string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))),
        };
        if (fingerprint is not null) meta[FeatureParquet.FingerprintKey] = fingerprint;
        shard?.WriteTo(meta);
        _writer.CustomMetadata = _metadata = meta;
    }

    /// <summary>One row group: <paramref name="paths"/>.Count rows of <paramref name="features"/> [rows, length].</summary>
    public void Append(IReadOnlyList<string> paths, IReadOnlyList<string?> labels, ReadOnlyMemory<float> features)
    {
        var writer = _writer ?? throw new ObjectDisposedException(nameof(FeatureParquetWriter));
        if (labels.Count != paths.Count || features.Length != paths.Count * _length)
            throw new ArgumentException($"{paths.Count} rows need {paths.Count} labels and {paths.Count * _length} feature values; got {labels.Count} and {features.Length}.");
        if (paths.Count == 0) return;
        var levels = new int[features.Length];
        for (int r = 0; r < paths.Count; r++)
            levels.AsSpan(r * _length + 1, _length - 1).Fill(1); // 0 starts a row's list, 1 continues it
        using var rg = writer.CreateRowGroup();
        rg.WriteAsync(FeatureParquet.PathField, paths.ToArray()).GetAwaiter().GetResult();
        rg.WriteAsync(FeatureParquet.LabelField, labels.ToArray()!).GetAwaiter().GetResult();
        rg.WriteAsync(FeatureParquet.FeaturesField, features, (ReadOnlyMemory<int>)levels).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Finishes the file and moves it into place (atomic on one file system); <paramref name="contentsHash"/>, when
    /// given, goes into the metadata (<see cref="FeatureParquet.ContentsKey"/>): known once every input was read.
    /// </summary>
    public void Commit(string? contentsHash = null)
    {
        var writer = _writer ?? throw new ObjectDisposedException(nameof(FeatureParquetWriter));
        if (contentsHash is not null)
        {
            _metadata[FeatureParquet.ContentsKey] = contentsHash;
            writer.CustomMetadata = _metadata;   // the footer, written on close, carries it
        }
        FeatureParquet.Close(writer);   // writes the footer; the stream stays open for the commit
        _writer = null;
        _file.Commit();
    }

    public void Dispose()
    {
        if (_writer is not null)
        {
            try { FeatureParquet.Close(_writer); }
            catch (IOException) { /* abandoning the file anyway */ }
            _writer = null;
        }
        _file.Dispose();
    }
}

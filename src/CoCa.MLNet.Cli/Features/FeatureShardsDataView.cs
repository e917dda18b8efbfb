using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;

namespace CoCa.MLNet.Cli.Features;

/// <summary>
/// A folder of feature shards written by <c>coca featurize --format parquet --shard I/N</c> (or one such file) as an
/// <see cref="IDataView"/>: columns Path, Label (text; empty when unknown) and Tokens [T, D] / [F, T, D] (or
/// Embedding [E]), with the encoder's fingerprint annotation, so the pooler trainer's feature cache keys it as it keys
/// a featurizer. The files must be one complete featurize run (<see cref="FeatureShardSet"/>: no shard missing,
/// duplicated, overlapping or from another run). Rows stream shard by shard, in shard order, one row group (one
/// featurize batch) in memory at a time.
/// </summary>
internal sealed class FeatureShardsDataView : IDataView
{
    public const string PathColumn = "Path", LabelColumn = CoCaColumnNames.Label, TokensColumn = CoCaColumnNames.Tokens, EmbeddingColumn = CoCaColumnNames.Embedding;

    private readonly string[] _files;
    private readonly FeatureParquet.Info _info;
    private readonly long _rows;

    public FeatureShardsDataView(string folderOrFile)
    {
        _files = Directory.Exists(folderOrFile)
            ? Directory.EnumerateFiles(folderOrFile, "*.parquet").Order(StringComparer.Ordinal).ToArray()
            : File.Exists(folderOrFile) ? [folderOrFile]
            : throw new FileNotFoundException($"Feature shards '{folderOrFile}' do not exist (expected a folder of .parquet files from `coca featurize --format parquet`).", folderOrFile);
        if (_files.Length == 0)
            throw new ArgumentException($"Folder '{folderOrFile}' holds no .parquet feature shards (write them with `coca featurize --format parquet --shard I/N`).");
        var infos = _files.Select(FeatureParquet.ReadInfo).ToArray();
        _info = infos[0];
        _files = FeatureShardSet.Order(folderOrFile, _files, infos, out long unreadable);
        UnreadableInputs = unreadable;
        _rows = infos.Sum(i => i.Rows);
        FeaturesColumn = _info.Output == "tokens" ? TokensColumn : EmbeddingColumn;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(PathColumn, TextDataViewType.Instance);
        builder.AddColumn(LabelColumn, TextDataViewType.Instance);
        DataViewSchema.Annotations? annotations = null;
        if (_info.Fingerprint is { } fp) annotations = EncoderFingerprint.Annotations(new Lazy<string>(fp));
        builder.AddColumn(FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, _info.Shape), annotations);
        Schema = builder.ToSchema();
    }

    /// <summary>Inputs of the featurize run that the shards leave out because they could not be read (featurize named them).</summary>
    public long UnreadableInputs { get; }

    /// <summary>Tokens or Embedding, after what the shards hold.</summary>
    public string FeaturesColumn { get; }

    /// <summary>Distinct labels of all rows, in ordinal order (reads only the label column's row groups).</summary>
    public string[] Labels()
    {
        var labels = new HashSet<string>(StringComparer.Ordinal);
        using var cursor = GetRowCursor([Schema[LabelColumn]]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(Schema[LabelColumn]);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext()) { getter(ref value); labels.Add(value.ToString()); }
        return labels.Order(StringComparer.Ordinal).ToArray();
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly FeatureShardsDataView _parent;
        private readonly HashSet<int> _active;
        private int _file = -1, _group, _row;
        private ParquetReader? _reader;
        private (string[] Paths, string?[] Labels, float[] Features) _batch = ([], [], []);
        private long _position = -1;

        public Cursor(FeatureShardsDataView parent, HashSet<int> active)
        {
            _parent = parent;
            _active = active;
        }

        public override DataViewSchema Schema => _parent.Schema;
        public override long Position => _position;
        public override long Batch => 0;

        public override bool MoveNext()
        {
            while (++_row >= _batch.Paths.Length)
            {
                if (_reader is null || ++_group >= _reader.RowGroupCount)
                {
                    if (_reader is not null) FeatureParquet.Close(_reader);
                    _reader = null;
                    if (++_file >= _parent._files.Length) return false;
                    _reader = ParquetReader.CreateAsync(_parent._files[_file]).GetAwaiter().GetResult();
                    _group = 0;
                    if (_reader.RowGroupCount == 0) { _batch = ([], [], []); _row = -1; continue; }
                }
                _batch = FeatureParquet.ReadRowGroup(_reader, _group, _parent._info.Length);
                _row = -1;
            }
            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == 0 || column.Index == 1)
            {
                ValueGetter<ReadOnlyMemory<char>> text = column.Index == 0
                    ? (ref ReadOnlyMemory<char> v) => v = _batch.Paths[_row].AsMemory()
                    : (ref ReadOnlyMemory<char> v) => v = (_batch.Labels[_row] ?? "").AsMemory();
                return text as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' is text; it cannot be read as {typeof(TValue).Name}.");
            }
            int length = _parent._info.Length;
            ValueGetter<VBuffer<float>> features = (ref VBuffer<float> dst) =>
            {
                var editor = VBufferEditor.Create(ref dst, length);
                _batch.Features.AsSpan(_row * length, length).CopyTo(editor.Values);
                dst = editor.Commit();
            };
            return features as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' is a float vector; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _reader is not null) FeatureParquet.Close(_reader);
            _reader = null;
            base.Dispose(disposing);
        }
    }
}

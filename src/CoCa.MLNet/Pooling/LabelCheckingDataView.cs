using CoCa.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Pooling;

/// <summary>
/// Passes data through unchanged, except that reading the training label column fails with a clear error on a row
/// whose label the classifier never saw in training: a missing key (a value the training's MapValueToKey did not know)
/// or a class that had no training examples. Evaluation on such rows would silently count them as errors or skip them.
/// </summary>
internal sealed class LabelCheckingDataView : IDataView
{
    private readonly IDataView _input;
    private readonly AttentionalPoolerModelInfo _info;
    private readonly int _labelIndex;

    public LabelCheckingDataView(IDataView input, AttentionalPoolerModelInfo info)
    {
        _input = input;
        _info = info;
        _labelIndex = input.Schema[info.LabelColumnName].Index;
    }

    public DataViewSchema Schema => _input.Schema;
    public bool CanShuffle => _input.CanShuffle;
    public long? GetRowCount() => _input.GetRowCount();

    /// <summary>
    /// True when <paramref name="schema"/> has the training label column as a key (its rows are then checked); throws
    /// when that key cannot be the training label (other class count or other class names).
    /// </summary>
    public static bool CheckLabelSchema(DataViewSchema schema, AttentionalPoolerModelInfo info)
    {
        var col = schema.GetColumnOrNull(info.LabelColumnName);
        if (col is null || col.Value.IsHidden || col.Value.Type is not KeyDataViewType key) return false;
        int k = info.Config.Classes;
        if (key.Count != (ulong)k)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Label column '{info.LabelColumnName}' is {key} with {key.Count} values, but the model was trained on {k} classes: " +
                "map labels to keys with the MapValueToKey fitted on the training data (part of the trained pipeline).");
        var trained = info.ClassLabels;
        var now = ClassLabelValues.FromColumn(col.Value);
        if (trained is not null && now is not null && !trained.Values.SequenceEqual(now.Values))
        {
            var unseen = now.Values.Except(trained.Values).ToList();
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Label column '{info.LabelColumnName}' has classes the model was not trained on" +
                (unseen.Count > 0 ? $" ({string.Join(", ", unseen.Take(10).Select(v => $"'{v}'"))})" : " (in another order)") +
                $"; trained classes: {string.Join(", ", trained.Values.Take(20).Select(v => $"'{v}'"))}. " +
                "Map labels with the MapValueToKey fitted on the training data.");
        }
        return key.RawType == typeof(uint);
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, _input.GetRowCursor(columnsNeeded, rand));

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        _input.GetRowCursorSet(columnsNeeded, n, rand).Select(c => (DataViewRowCursor)new Cursor(this, c)).ToArray();

    private string Describe(uint key) =>
        _info.ClassLabels is { } labels && key >= 1 && key <= labels.Count ? $"'{labels.Values[(int)key - 1]}' (key {key})" : $"key {key}";

    private sealed class Cursor(LabelCheckingDataView parent, DataViewRowCursor input) : DataViewRowCursor
    {
        public override DataViewSchema Schema => input.Schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => input.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var getter = input.GetGetter<TValue>(column);
            if (column.Index != parent._labelIndex || typeof(TValue) != typeof(uint)) return getter;
            var keyGetter = (ValueGetter<uint>)(Delegate)getter;
            var counts = parent._info.TrainingExamplesPerClass;
            var name = parent._info.LabelColumnName;
            ValueGetter<uint> checkedGetter = (ref uint value) =>
            {
                keyGetter(ref value);
                if (value == 0)
                    throw new InvalidDataException(
                        $"Row {input.Position} of label column '{name}' holds a value that training never saw (a missing key: the " +
                        $"value-to-key mapping fitted on the training data does not know it). Trained classes: {KnownClasses()}.");
                if (value <= counts.Length && counts[value - 1] == 0)
                    throw new InvalidDataException(
                        $"Row {input.Position} of label column '{name}' is {parent.Describe(value)}, a class that had no training examples. Trained classes: {KnownClasses()}.");
            };
            return (ValueGetter<TValue>)(Delegate)checkedGetter;
        }

        private string KnownClasses()
        {
            var counts = parent._info.TrainingExamplesPerClass;
            var known = Enumerable.Range(1, counts.Length).Where(k => counts[k - 1] > 0).Select(k => parent.Describe((uint)k)).Take(20);
            return string.Join(", ", known);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}

using CoCa.MLNet.Runtime;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// A lazy IDataView that adds a batched mapper's columns to its input. Rows are mapped in batches of
/// <c>batchSize</c>: a second cursor over the input column runs ahead to collect the batch while the main
/// cursor keeps every other column on the current row (ML.NET's OnnxTransformer scores one row per call).
/// With an <see cref="IPipelinedBatchMapper"/> the second cursor and the CPU half of the mapping run one batch ahead
/// on a background thread (<see cref="Prefetch"/>), so decoding overlaps the encoder; rows keep their order.
/// </summary>
internal sealed class BatchedMappingDataView : IDataView
{
    private readonly IDataView _input;
    private readonly IBatchMapper _mapper;
    private readonly int _batchSize;
    private readonly DataViewSchema.Column _inputColumn;

    public BatchedMappingDataView(IDataView input, IBatchMapper mapper, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(mapper);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        mapper.CheckInputSchema(input.Schema);
        _input = input;
        _mapper = mapper;
        _batchSize = batchSize;
        _inputColumn = input.Schema[mapper.InputColumnName];
        Schema = BuildSchema(input.Schema, mapper);
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => _input.GetRowCount();

    /// <summary>The input schema with the mapper's columns appended (a same-named input column is hidden, as in ML.NET).</summary>
    public static DataViewSchema BuildSchema(DataViewSchema input, IBatchMapper mapper)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        foreach (var o in mapper.Outputs)
            builder.AddColumn(o.Name, o.Type, o.Annotations);
        return builder.ToSchema();
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        int inputCount = _input.Schema.Count;
        bool anyOutput = needed.Any(i => i >= inputCount);
        var inputNeeded = needed.Where(i => i < inputCount).Select(i => _input.Schema[i]).ToList();
        // Batches are gathered by a second cursor, which must visit the same rows in the same order: not so when shuffled.
        int batch = rand is null ? _batchSize : 1;
        if (anyOutput && batch == 1 && !inputNeeded.Any(c => c.Index == _inputColumn.Index))
            inputNeeded.Add(_inputColumn);
        var main = _input.GetRowCursor(inputNeeded, rand);
        DataViewRowCursor? ahead = anyOutput && batch > 1 ? _input.GetRowCursor([_inputColumn]) : null;
        return new Cursor(this, main, ahead, needed, batch, anyOutput);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedMappingDataView _parent;
        private readonly DataViewRowCursor _main;
        private readonly DataViewRowCursor? _ahead;
        private readonly HashSet<int> _active;
        private readonly int _batchSize;
        private readonly bool _mapOutputs;
        private readonly Func<object>? _readInput;
        private readonly IEnumerator<object>? _prepared;
        private object[][] _batch = [];
        private int _inBatch = -1;
        private long _position = -1;

        public Cursor(BatchedMappingDataView parent, DataViewRowCursor main, DataViewRowCursor? ahead, HashSet<int> active, int batchSize, bool mapOutputs)
        {
            _parent = parent;
            _main = main;
            _ahead = ahead;
            _active = active;
            _batchSize = batchSize;
            _mapOutputs = mapOutputs;
            if (mapOutputs)
                _readInput = parent._mapper.CreateInputReader(ahead ?? main, parent._inputColumn);
            if (mapOutputs && ahead is not null && parent._mapper is IPipelinedBatchMapper pipelined)
                _prepared = Prefetch.Ahead(ReadBatches().Select(pipelined.Prepare)).GetEnumerator();
        }

        // The second cursor's rows in batches (on the prefetch thread when pipelined).
        private IEnumerable<IReadOnlyList<object>> ReadBatches()
        {
            while (true)
            {
                var inputs = new List<object>(_batchSize);
                while (inputs.Count < _batchSize && _ahead!.MoveNext())
                    inputs.Add(_readInput!());
                if (inputs.Count == 0) yield break;
                yield return inputs;
            }
        }

        public override DataViewSchema Schema => _parent.Schema;
        public override long Position => _position;
        public override long Batch => 0;

        // Errors surface as the mapper (or an upstream CoCa view) raised them, naming the input: a parallel decode's
        // AggregateException and ML.NET's splitter wrapper from upstream ML.NET transforms are taken off (InputErrors).
        public override bool MoveNext()
        {
            try
            {
                if (!_main.MoveNext()) return false;
                _position++;
                if (_mapOutputs && ++_inBatch >= _batch.Length) FillBatch();
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                InputErrors.RethrowUnwrapped(e);
                throw;
            }
        }

        private void FillBatch()
        {
            if (_prepared is not null)
            {
                if (!_prepared.MoveNext())
                    throw new InvalidOperationException("The input data changed while it was read: its cursors disagree on the number of rows.");
                _batch = ((IPipelinedBatchMapper)_parent._mapper).MapPrepared(_prepared.Current);
                _inBatch = 0;
                return;
            }
            var inputs = new List<object>(_batchSize);
            if (_ahead is null)
            {
                inputs.Add(_readInput!());
            }
            else
            {
                while (inputs.Count < _batchSize && _ahead.MoveNext())
                    inputs.Add(_readInput!());
                if (inputs.Count == 0)
                    throw new InvalidOperationException("The input data changed while it was read: its cursors disagree on the number of rows.");
            }
            _batch = _parent._mapper.MapBatch(inputs);
            _inBatch = 0;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent._input.Schema.Count;
            if (column.Index < inputCount)
                return _main.GetGetter<TValue>(_parent._input.Schema[column.Index]);
            int output = column.Index - inputCount;
            return OutputGetters.Create<TValue>(() => _batch[_inBatch][output], _parent._mapper.Outputs[output]);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _prepared?.Dispose(); // stops the prefetch thread before its cursor goes
                _main.Dispose();
                _ahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>Getters over the per-row values a mapper hands out.</summary>
internal static class OutputGetters
{
    public static ValueGetter<TValue> Create<TValue>(Func<object> current, OutputColumn column)
    {
        if (typeof(TValue) == typeof(VBuffer<float>))
        {
            ValueGetter<VBuffer<float>> g = (ref VBuffer<float> dst) =>
            {
                var values = (float[])current();
                var editor = VBufferEditor.Create(ref dst, values.Length);
                values.CopyTo(editor.Values);
                dst = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)g;
        }
        if (typeof(TValue) == typeof(uint))
        {
            ValueGetter<uint> g = (ref uint dst) => dst = (uint)current();
            return (ValueGetter<TValue>)(Delegate)g;
        }
        if (typeof(TValue) == typeof(ReadOnlyMemory<char>))
        {
            ValueGetter<ReadOnlyMemory<char>> g = (ref ReadOnlyMemory<char> dst) => dst = ((string)current()).AsMemory();
            return (ValueGetter<TValue>)(Delegate)g;
        }
        if (typeof(TValue) == typeof(VBuffer<long>))
        {
            ValueGetter<VBuffer<long>> g = (ref VBuffer<long> dst) =>
            {
                var values = (long[])current();
                var editor = VBufferEditor.Create(ref dst, values.Length);
                values.CopyTo(editor.Values);
                dst = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)g;
        }
        throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
    }
}

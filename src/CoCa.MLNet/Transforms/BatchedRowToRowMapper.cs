using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// The row-at-a-time face of a batched mapper, for <c>PredictionEngine</c> (which needs
/// <see cref="IRowToRowMapper"/>): each row is mapped as a batch of one when its output is first read.
/// </summary>
internal sealed class BatchedRowToRowMapper : IRowToRowMapper
{
    private readonly IBatchMapper _mapper;

    public BatchedRowToRowMapper(DataViewSchema inputSchema, IBatchMapper mapper)
    {
        mapper.CheckInputSchema(inputSchema);
        InputSchema = inputSchema;
        _mapper = mapper;
        OutputSchema = BatchedMappingDataView.BuildSchema(inputSchema, mapper);
    }

    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        dependingColumns.Any(c => c.Index >= InputSchema.Count)
            ? dependingColumns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).Append(InputSchema[_mapper.InputColumnName]).Distinct()
            : dependingColumns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new Row(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class Row : DataViewRow
    {
        private readonly BatchedRowToRowMapper _parent;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly Func<object>? _read;
        private long _mappedPosition = -1;
        private object[] _values = [];

        public Row(BatchedRowToRowMapper parent, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            if (active.Any(i => i >= parent.InputSchema.Count))
                _read = parent._mapper.CreateInputReader(input, input.Schema[parent._mapper.InputColumnName]);
        }

        public override DataViewSchema Schema => _parent.OutputSchema;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent.InputSchema.Count;
            if (column.Index < inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            int output = column.Index - inputCount;
            return OutputGetters.Create<TValue>(() => Current()[output], _parent._mapper.Outputs[output]);
        }

        // Errors surface as the mapper raised them, naming the input (InputErrors), as through the batched cursor.
        private object[] Current()
        {
            if (_mappedPosition != _input.Position)
            {
                try
                {
                    _values = _parent._mapper.MapBatch([_read!()])[0];
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    InputErrors.RethrowUnwrapped(e);
                    throw;
                }
                _mappedPosition = _input.Position;
            }
            return _values;
        }
    }
}

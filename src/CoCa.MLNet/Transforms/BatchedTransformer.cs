using CoCa.MLNet.Persistence;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// The ML.NET side of every CoCa transformer: an <see cref="IBatchMapper"/> does the work, this class serves it as
/// a lazily mapped, batched <see cref="IDataView"/> and as a row-to-row mapper (PredictionEngine). Saving goes
/// through <c>mlContext.Model.SaveCoCa</c>: ML.NET's own save context is internal to Microsoft.ML.
/// </summary>
public abstract class BatchedTransformer : ITransformer
{
    /// <summary>Rows mapped per batch (one ONNX Runtime call each).</summary>
    protected abstract int BatchSize { get; }

    /// <summary>A new mapper over this transformer's state for <paramref name="inputSchema"/> (checked by the caller).</summary>
    private protected abstract IBatchMapper CreateMapper(DataViewSchema inputSchema);

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => BatchedMappingDataView.BuildSchema(inputSchema, CheckedMapper(inputSchema));

    public IDataView Transform(IDataView input) => new BatchedMappingDataView(input, CheckedMapper(input.Schema), BatchSize);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new BatchedRowToRowMapper(inputSchema, CheckedMapper(inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx) => throw PersistenceErrors.UseSaveCoCa(GetType().Name);

    private IBatchMapper CheckedMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var mapper = CreateMapper(inputSchema);
        mapper.CheckInputSchema(inputSchema);
        return mapper;
    }
}

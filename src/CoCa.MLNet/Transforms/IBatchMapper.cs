using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>One column a batched mapper adds: float vectors, or a key derived from them.</summary>
internal sealed record OutputColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations = null);

/// <summary>
/// The work of a batched transformer: read one input column, map many rows at once (one ONNX Runtime call per
/// batch), hand out per-row values. <see cref="BatchedMappingDataView"/> does the ML.NET plumbing around it.
/// </summary>
internal interface IBatchMapper
{
    /// <summary>The input column this mapper reads.</summary>
    string InputColumnName { get; }

    /// <summary>The added columns, in order.</summary>
    IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>Throws a clear <see cref="ArgumentOutOfRangeException"/> when the input schema lacks the column or it has the wrong type.</summary>
    void CheckInputSchema(DataViewSchema inputSchema);

    /// <summary>Returns a function that reads the input column of the row's current position into a self-contained value.</summary>
    Func<object> CreateInputReader(DataViewRow row, DataViewSchema.Column inputColumn);

    /// <summary>
    /// Maps a batch. For each row, one value per output: a <c>float[]</c> for float vectors, a <c>uint</c> for keys,
    /// a <c>string</c> for text, a <c>long[]</c> for int64 vectors.
    /// </summary>
    object[][] MapBatch(IReadOnlyList<object> inputs);
}

/// <summary>
/// A batched mapper whose work splits into a CPU half (decoding, preprocessing) and an encoder half:
/// <see cref="BatchedMappingDataView"/> prepares the next batch on a background thread while this one is encoded.
/// <see cref="IBatchMapper.MapBatch"/> must equal <c>MapPrepared(Prepare(inputs))</c>.
/// </summary>
internal interface IPipelinedBatchMapper : IBatchMapper
{
    /// <summary>The CPU half, run ahead of the encoder (on threads that leave the encoder's cores alone).</summary>
    object Prepare(IReadOnlyList<object> inputs);

    /// <summary>The encoder half: per row, one value per output.</summary>
    object[][] MapPrepared(object prepared);
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>Reads a float-vector column (tokens, embeddings, scores) out of an <see cref="IDataView"/>.</summary>
internal static class FloatVectorColumn
{
    /// <summary>The column <paramref name="column"/> of every row, in order, as dense arrays.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or is not a float vector.</exception>
    public static float[][] Read(IDataView data, string column)
    {
        ArgumentNullException.ThrowIfNull(data);
        var col = data.Schema.GetColumnOrNull(column)
            ?? throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column}' not found; expected a float vector column.");
        if (col.Type is not VectorDataViewType v || v.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column}' is {col.Type}; expected a float vector column.");
        var rows = new List<float[]>();
        using var cursor = data.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            var dense = new float[value.Length];
            value.CopyTo(dense);
            rows.Add(dense);
        }
        return rows.ToArray();
    }

    /// <summary>The column of every row concatenated, row-major ([rows, size]).</summary>
    public static float[] ReadFlat(IDataView data, string column) => Read(data, column).SelectMany(r => r).ToArray();
}

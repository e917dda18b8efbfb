using Microsoft.ML;

namespace CoCa.MLNet.MLNet;

/// <summary>Small pieces every batched mapper needs.</summary>
internal static class BatchRows
{
    /// <summary>Splits batch outputs (row-major, <c>Length</c> values a row; null = not requested) into per-row values.</summary>
    public static object[][] Split(int rows, params (float[]? Values, int Length)[] outputs)
    {
        var result = new object[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = new List<object>(outputs.Length);
            foreach (var (values, length) in outputs)
                if (values is not null) row.Add(values.AsSpan(i * length, length).ToArray());
            result[i] = row.ToArray();
        }
        return result;
    }

    /// <summary>Reads a text column holding file paths, resolved against <paramref name="folder"/> when given.</summary>
    public static Func<object> PathReader(DataViewRow row, DataViewSchema.Column column, string? folder, string what)
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
        return () =>
        {
            ReadOnlyMemory<char> value = default;
            getter(ref value);
            var path = value.ToString();
            if (path.Length == 0) throw new InvalidDataException($"Column '{column.Name}' has an empty {what} path at row {row.Position}.");
            return folder is null ? path : Path.Combine(folder, path);
        };
    }
}

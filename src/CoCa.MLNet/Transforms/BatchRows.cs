using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

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

    /// <summary>Checks that a column holds image paths (text) or MLImages; throws naming it otherwise.</summary>
    public static void CheckImageColumn(DataViewSchema inputSchema, string name)
    {
        var col = inputSchema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{name}' not found; expected an image path (text) or an MLImage column.");
        if (col.Type is not TextDataViewType && col.Type is not Microsoft.ML.Transforms.Image.ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{name}' is {col.Type}; expected an image path (text) or an MLImage.");
    }

    /// <summary>
    /// Reads an image column: a path (resolved against <paramref name="folder"/>), or a copy of the MLImage (ML.NET image
    /// transforms dispose their MLImages when the cursor moves on).
    /// </summary>
    public static Func<object> ImageReader(DataViewRow row, DataViewSchema.Column column, string? folder)
    {
        if (column.Type is TextDataViewType) return PathReader(row, column, folder, "image");
        var imageGetter = row.GetGetter<MLImage>(column);
        return () =>
        {
            MLImage image = null!;
            try
            {
                imageGetter(ref image);
            }
            catch (ArgumentException e)
            {
                // ML.NET's LoadImages on a file it cannot decode: "Invalid input stream contents (Parameter 'imageStream')", no file named.
                throw new InvalidDataException(
                    $"Column '{column.Name}' could not give its image at row {row.Position}: {e.Message}; expected {Preprocessing.ImageDecoder.ExpectedFormats}. " +
                    "Give the featurizer image paths instead of MLImages to have the file named.", e);
            }
            if (image is null) throw new InvalidDataException($"Column '{column.Name}' has no image at row {row.Position}.");
            return Preprocessing.ImageDecoder.FromMLImage(image);
        };
    }
}

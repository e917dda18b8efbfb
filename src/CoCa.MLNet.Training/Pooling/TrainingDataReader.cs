using CoCa.MLNet.Scoring;
using CoCa.MLNet.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>The label column of the training data: a key of K classes, with its values (class names) if any.</summary>
internal sealed record LabelColumnInfo(DataViewSchema.Column Column, int Classes, ClassLabelValues? Values);

/// <summary>Checks the training schema and reads labels and tokens out of an IDataView.</summary>
internal static class TrainingDataReader
{
    /// <summary>The token layout of the features column: a known-size float vector with dimensions [T, D] or [F, T, D].</summary>
    public static TokenShape GetTokenShape(DataViewSchema schema, string featureColumn)
    {
        const string expected = "a float vector with dimensions [T, D] (image tokens) or [F, T, D] (F video frames of T tokens), e.g. the tokens of a CoCa featurizer";
        var col = schema.GetColumnOrNull(featureColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Features column '{featureColumn}' not found; expected {expected}.");
        if (col.Type is not VectorDataViewType { ItemType: NumberDataViewType item } v || item != NumberDataViewType.Single || !v.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Features column '{featureColumn}' is {col.Type}; expected {expected}.");
        var d = v.Dimensions;
        if (d.Length is < 2 or > 3)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Features column '{featureColumn}' is {col.Type} with {d.Length} dimension(s); expected {expected}. " +
                "Flat vectors do not say where one token ends: give the column its [T, D] shape (VectorType(T, D) or the featurizer's output).");
        return d.Length == 2 ? new TokenShape(1, d[0], d[1]) : new TokenShape(d[0], d[1], d[2]);
    }

    public static LabelColumnInfo GetLabel(DataViewSchema schema, string labelColumn)
    {
        var col = schema.GetColumnOrNull(labelColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{labelColumn}' not found; expected a key (map labels with mlContext.Transforms.Conversion.MapValueToKey).");
        if (col.Type is not KeyDataViewType key)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{labelColumn}' is {col.Type}; expected a key type (map labels with mlContext.Transforms.Conversion.MapValueToKey).");
        if (key.Count > int.MaxValue / 2)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{labelColumn}' is {key} with {key.Count} values; too many classes.");
        return new LabelColumnInfo(col, (int)key.Count, ClassLabelValues.FromColumn(col));
    }

    /// <summary>
    /// Reads every label (0-based class index) without touching the features column, so an upstream encoder does not
    /// run; <paramref name="rowHasher"/> (if given) sees each row too, for the cache key.
    /// </summary>
    public static int[] ReadLabels(IDataView data, LabelColumnInfo label, IReadOnlyList<DataViewSchema.Column> alsoRead, Func<DataViewRow, Action>? rowHasher)
    {
        using var cursor = data.GetRowCursor(alsoRead.Append(label.Column).DistinctBy(c => c.Index));
        var read = CreateKeyReader(cursor, label.Column);
        var hash = rowHasher?.Invoke(cursor);
        var labels = new List<int>();
        while (cursor.MoveNext())
        {
            ulong key = read();
            if (key == 0)
                throw new InvalidDataException($"Row {cursor.Position} of label column '{label.Column.Name}' has no label (missing key); remove such rows or give them a class.");
            labels.Add((int)(key - 1));
            hash?.Invoke();
        }
        return labels.ToArray();
    }

    private static Func<ulong> CreateKeyReader(DataViewRow row, DataViewSchema.Column column)
    {
        switch (column.Type.RawType)
        {
            case var t when t == typeof(uint): { var g = row.GetGetter<uint>(column); uint v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(ushort): { var g = row.GetGetter<ushort>(column); ushort v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(byte): { var g = row.GetGetter<byte>(column); byte v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(ulong): { var g = row.GetGetter<ulong>(column); ulong v = 0; return () => { g(ref v); return v; }; }
            default: throw new ArgumentOutOfRangeException(nameof(column), $"Label column '{column.Name}' has keys of {column.Type.RawType.Name}; expected UInt32.");
        }
    }

    /// <summary>
    /// The training examples of each class of <paramref name="label"/>; throws in one line when there are none, or all of
    /// one class (a classifier needs at least two).
    /// </summary>
    public static int[] ExamplesPerClass(int[] labels, LabelColumnInfo label)
    {
        if (labels.Length == 0)
            throw new InvalidOperationException($"The training data has no rows; a classifier needs examples of at least two classes in '{label.Column.Name}'.");
        var perClass = new int[label.Classes];
        foreach (var l in labels) perClass[l]++;
        if (perClass.Count(c => c > 0) < 2)
        {
            int onlyClass = Array.FindIndex(perClass, c => c > 0);
            var only = label.Values is { } v ? $"'{v.Values[onlyClass]}'" : $"key {onlyClass + 1}";
            throw new InvalidOperationException($"All {labels.Length} training rows have the same label ({only}); a classifier needs at least two classes in '{label.Column.Name}'.");
        }
        return perClass;
    }

    /// <summary>Calls <paramref name="consume"/> with the tokens of each of the first <paramref name="maxRows"/> rows.</summary>
    public static int ReadFeatures(IDataView data, string featureColumn, TokenShape shape, int maxRows, Action<ReadOnlySpan<float>, long> consume)
    {
        var column = data.Schema[featureColumn];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        var dense = new float[shape.RowLength];
        int rows = 0;
        while (rows < maxRows && cursor.MoveNext())
        {
            getter(ref buffer);
            if (buffer.Length != dense.Length)
                throw new InvalidDataException($"Row {cursor.Position} of column '{featureColumn}' has {buffer.Length} values, expected {dense.Length} ({shape}).");
            buffer.CopyTo(dense);
            consume(dense, cursor.Position);
            rows++;
        }
        return rows;
    }
}

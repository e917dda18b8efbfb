using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// Builds <see cref="SchemaShape.Column"/>s for estimators' GetOutputSchema. Its constructor is internal in ML.NET 5,
/// so outside estimators reach it by reflection (the only way to describe new columns to an EstimatorChain).
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo ColumnCtor = typeof(SchemaShape.Column)
        .GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .Single(c => c.GetParameters().Length == 5);

    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null) =>
        (SchemaShape.Column)ColumnCtor.Invoke([name, kind, itemType, isKey, annotations ?? new SchemaShape([])]);

    public static SchemaShape.Column FloatVector(string name, SchemaShape? annotations = null) =>
        Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, annotations);

    /// <summary>The input columns with <paramref name="added"/> appended (replacing same-named ones).</summary>
    public static SchemaShape Append(SchemaShape input, params SchemaShape.Column[] added)
    {
        var columns = input.ToDictionary(c => c.Name);
        foreach (var c in added) columns[c.Name] = c;
        return new SchemaShape(columns.Values);
    }

    /// <summary>
    /// Throws naming both options when two output columns of one estimator would have the same name: the later would
    /// hide the earlier, silently (or a scorer's columns fail far away, in Evaluate).
    /// </summary>
    public static void RequireDistinctOutputs(string optionsType, string firstOption, string? first, string secondOption, string? second)
    {
        if (first is not null && first == second)
            throw new ArgumentException($"{optionsType}.{firstOption} and {secondOption} are both '{first}'; two output columns need two names.");
    }

    /// <summary>Finds a column of an input SchemaShape or throws naming it and what the estimator expected.</summary>
    public static SchemaShape.Column Find(SchemaShape input, string name, string expected)
    {
        foreach (var c in input)
            if (c.Name == name) return c;
        throw new ArgumentOutOfRangeException(nameof(input), $"Input column '{name}' not found; expected {expected}.");
    }

    /// <summary>Checks that an estimator's input column holds image paths (text) or MLImages; throws naming it otherwise.</summary>
    public static void RequireImageColumn(SchemaShape input, string name)
    {
        var column = Find(input, name, "an image path (text) or an MLImage column");
        bool isPath = column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType is TextDataViewType;
        bool isImage = column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType.GetType().Name == "ImageDataViewType";
        if (!isPath && !isImage)
            throw new ArgumentOutOfRangeException(nameof(input), $"Input column '{name}' is {column.ItemType}; expected an image path (text) or an MLImage.");
    }
}

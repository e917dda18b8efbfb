using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Scoring;

/// <summary>
/// The values behind a key-typed label (its KeyValues annotation, e.g. the class names from MapValueToKey), kept so
/// that a trained classifier can hand them on: KeyValues on PredictedLabel (MapKeyToValue works), SlotNames and
/// TrainingLabelValues on Score (the evaluator names classes). Stored as invariant text with the item type's name.
/// </summary>
internal sealed class ClassLabelValues
{
    public const string KeyValuesAnnotation = "KeyValues";

    private static readonly Dictionary<string, PrimitiveDataViewType> Types = new()
    {
        ["Text"] = TextDataViewType.Instance,
        ["Single"] = NumberDataViewType.Single,
        ["Double"] = NumberDataViewType.Double,
        ["SByte"] = NumberDataViewType.SByte,
        ["Byte"] = NumberDataViewType.Byte,
        ["Int16"] = NumberDataViewType.Int16,
        ["UInt16"] = NumberDataViewType.UInt16,
        ["Int32"] = NumberDataViewType.Int32,
        ["UInt32"] = NumberDataViewType.UInt32,
        ["Int64"] = NumberDataViewType.Int64,
        ["UInt64"] = NumberDataViewType.UInt64,
        ["Boolean"] = BooleanDataViewType.Instance,
    };

    public ClassLabelValues(string itemTypeName, IReadOnlyList<string> values)
    {
        if (!Types.TryGetValue(itemTypeName, out var type))
            throw new ArgumentException($"Label values of type '{itemTypeName}' are not supported; expected one of {string.Join(", ", Types.Keys)}.");
        ItemTypeName = itemTypeName;
        ItemType = type;
        Values = values.ToArray();
    }

    /// <summary>"Text", "Single", "Int32", ... (the ML.NET item type of the values).</summary>
    public string ItemTypeName { get; }

    public PrimitiveDataViewType ItemType { get; }

    /// <summary>The values as invariant text, class k (key k+1) at index k.</summary>
    public IReadOnlyList<string> Values { get; }

    public int Count => Values.Count;

    /// <summary>Reads the KeyValues annotation of a key column; null when it has none (or of an unsupported type).</summary>
    public static ClassLabelValues? FromColumn(DataViewSchema.Column column)
    {
        var annotation = column.Annotations.Schema.GetColumnOrNull(KeyValuesAnnotation);
        if (annotation is null || annotation.Value.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType item }) return null;
        var name = Types.FirstOrDefault(t => t.Value.Equals(item)).Key;
        if (name is null) return null;
        var read = typeof(ClassLabelValues).GetMethod(nameof(ReadValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(item.RawType);
        var values = (string[])read.Invoke(null, [column.Annotations, annotation.Value])!;
        return new ClassLabelValues(name, values);
    }

    private static string[] ReadValues<T>(DataViewSchema.Annotations annotations, DataViewSchema.Column annotation)
    {
        VBuffer<T> buffer = default;
        annotations.GetValue(annotation.Name, ref buffer);
        return buffer.DenseValues().Select(v => v switch
        {
            ReadOnlyMemory<char> text => text.ToString(),
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            _ => v?.ToString() ?? "",
        }).ToArray();
    }

    /// <summary>Adds the values, in their own type, as annotation <paramref name="name"/> (KeyValues, TrainingLabelValues).</summary>
    public void AddTo(DataViewSchema.Annotations.Builder builder, string name)
    {
        var add = typeof(ClassLabelValues).GetMethod(nameof(AddTyped), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(ItemType.RawType);
        add.Invoke(this, [builder, name]);
    }

    /// <summary>Adds the values as text: the SlotNames of a score vector.</summary>
    public void AddAsText(DataViewSchema.Annotations.Builder builder, string name)
    {
        var text = Values.Select(v => v.AsMemory()).ToArray();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = (ref VBuffer<ReadOnlyMemory<char>> dst) => dst = new VBuffer<ReadOnlyMemory<char>>(text.Length, text);
        builder.Add(name, new VectorDataViewType(TextDataViewType.Instance, text.Length), getter);
    }

    private void AddTyped<T>(DataViewSchema.Annotations.Builder builder, string name)
    {
        var values = Values.Select(Parse<T>).ToArray();
        ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> dst) => dst = new VBuffer<T>(values.Length, (T[])values.Clone());
        builder.Add(name, new VectorDataViewType(ItemType, values.Length), getter);
    }

    private static T Parse<T>(string text)
    {
        object value = typeof(T) == typeof(ReadOnlyMemory<char>) ? text.AsMemory()
            : typeof(T) == typeof(bool) ? bool.Parse(text)
            : Convert.ChangeType(text, typeof(T), CultureInfo.InvariantCulture);
        return (T)value;
    }
}

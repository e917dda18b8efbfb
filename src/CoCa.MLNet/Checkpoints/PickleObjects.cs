using System.Numerics;

namespace CoCa.MLNet.Checkpoints;

// The Python values the pickle VM builds. Python int → long (or BigInteger when wider), float → double,
// str → string, bytes → byte[], bool → bool, None → null, list → List<object?>.

/// <summary>A Python tuple; structurally equal so it can serve as a dict key.</summary>
internal sealed class PyTuple(object?[] items) : IEquatable<PyTuple>
{
    public static readonly PyTuple Empty = new([]);

    public object?[] Items { get; } = items;
    public int Count => Items.Length;
    public object? this[int i] => Items[i];

    public bool Equals(PyTuple? other) =>
        other is not null && Items.Length == other.Items.Length && Items.Zip(other.Items).All(p => Equals(p.First, p.Second));

    public override bool Equals(object? obj) => Equals(obj as PyTuple);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in Items) hash.Add(item);
        return hash.ToHashCode();
    }

    public override string ToString() => "(" + string.Join(", ", Items.Select(PyRepr.Of)) + (Items.Length == 1 ? ",)" : ")");
}

/// <summary>A Python dict or collections.OrderedDict (insertion-ordered, like both in Python 3.7+).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public void Set(object? key, object? value, string source)
    {
        if (key is null) throw new CheckpointException($"{source}: a dict key is None, which CoCa.MLNet's pickle reader does not support.");
        this[key] = value;
    }
}

/// <summary>A global (module attribute) the VM resolved; only allow-listed ones can be called.</summary>
internal interface IPyCallable
{
    string QualifiedName { get; }
    object? Call(object?[] args, string source);
}

/// <summary>
/// A reference to a pickle global that is not on the allow-list (or anything built from it). It is never resolved or
/// executed; it only records the name so an error can say which global was needed, if the value is ever used.
/// </summary>
internal sealed class PyOpaque(string globalName)
{
    public string GlobalName { get; } = globalName;
    public override string ToString() => $"<object of unsupported global {GlobalName}>";
}

internal static class PyRepr
{
    public static string Of(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + s + "'",
        long or BigInteger or double => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
        byte[] bytes => $"<{bytes.Length} bytes>",
        _ => value.ToString() ?? value.GetType().Name,
    };

    public static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        PyOpaque o => $"object of unsupported global '{o.GlobalName}'",
        _ => value.GetType().Name,
    };
}

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// An open_clip state dict: parameter name → tensor. The names are the compatibility contract
/// (e.g. <c>visual.transformer.resblocks.0.attn.in_proj_weight</c>).
/// </summary>
internal sealed class StateDict : IReadOnlyDictionary<string, CheckpointTensor>
{
    private readonly Dictionary<string, CheckpointTensor> _tensors;

    public StateDict(IEnumerable<CheckpointTensor> tensors, string source)
    {
        _tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var t in tensors) _tensors[t.Name] = t;
        Source = source;
    }

    /// <summary>Where the tensors came from (a file path), for error messages.</summary>
    public string Source { get; }

    /// <summary>
    /// Returns the tensor <paramref name="name"/>, checking its shape; throws <see cref="CheckpointException"/>
    /// naming the key and the expected shape when it is missing or mis-shaped.
    /// </summary>
    public CheckpointTensor Get(string name, params long[] expectedShape)
    {
        if (!_tensors.TryGetValue(name, out var t))
            throw new CheckpointException($"Checkpoint '{Source}' has no tensor '{name}' (expected shape [{string.Join(", ", expectedShape)}]).");
        if (!t.HasShape(expectedShape))
            throw new CheckpointException($"Checkpoint '{Source}': tensor '{name}' has shape {t.ShapeText}, expected [{string.Join(", ", expectedShape)}].");
        return t;
    }

    /// <summary>Keys starting with <paramref name="prefix"/>.</summary>
    public IEnumerable<string> KeysWithPrefix(string prefix) => _tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal));

    public CheckpointTensor this[string key] => _tensors[key];
    public IEnumerable<string> Keys => _tensors.Keys;
    public IEnumerable<CheckpointTensor> Values => _tensors.Values;
    public int Count => _tensors.Count;
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);
    public bool TryGetValue(string key, out CheckpointTensor value) => _tensors.TryGetValue(key, out value!);
    public IEnumerator<KeyValuePair<string, CheckpointTensor>> GetEnumerator() => _tensors.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A checkpoint that cannot be read or does not fit the model configuration.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message) : base(message) { }
    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}

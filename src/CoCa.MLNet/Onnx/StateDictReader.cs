using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Onnx;

/// <summary>
/// Reads model weights from a <see cref="StateDict"/> while recording which keys were used, so that a converter
/// can reject a checkpoint with unexpected tensors (e.g. a resblock index beyond the configured depth)
/// instead of silently ignoring them.
/// </summary>
internal sealed class StateDictReader
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public StateDictReader(StateDict stateDict) => StateDict = stateDict ?? throw new ArgumentNullException(nameof(stateDict));

    public StateDict StateDict { get; }

    /// <summary>Keys read so far.</summary>
    public IReadOnlyCollection<string> ReadKeys => _read;

    /// <summary>
    /// The tensor <paramref name="name"/> with shape <paramref name="expectedShape"/>; throws
    /// <see cref="CheckpointException"/> naming the key and the expected shape when it is missing or mis-shaped.
    /// </summary>
    public NamedTensor Get(string name, params long[] expectedShape)
    {
        var tensor = StateDict.Get(name, expectedShape);
        _read.Add(name);
        return NamedTensor.From(tensor);
    }

    /// <summary>Keys starting with <paramref name="prefix"/> that were never read, in ordinal order.</summary>
    public IReadOnlyList<string> Unread(string prefix) =>
        StateDict.KeysWithPrefix(prefix).Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Throws <see cref="CheckpointException"/> listing the keys under <paramref name="prefix"/> that were not read.</summary>
    public void ThrowIfUnread(string prefix, string expectation)
    {
        var extra = Unread(prefix);
        if (extra.Count == 0) return;
        const int shown = 12;
        var list = string.Join(", ", extra.Take(shown).Select(k => $"'{k}' {StateDict[k].ShapeText}"));
        var more = extra.Count > shown ? $" and {extra.Count - shown} more" : "";
        throw new CheckpointException(
            $"Checkpoint '{StateDict.Source}' has {extra.Count} unexpected '{prefix}' tensor(s) for {expectation}: {list}{more}. " +
            "The checkpoint and the configuration do not describe the same model.");
    }
}

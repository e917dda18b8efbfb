using System.Globalization;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>--shard I/N</c>: the I-th (from 0) of N contiguous blocks of the input list. The list is cut into U batches
/// (the encoder's batch size; the last may be short) and block i holds batches [⌊i·U/N⌋, ⌊(i+1)·U/N⌋): the blocks
/// in order cover the list exactly once, and every encoder call of a shard is one the unsharded run makes too, so
/// the shards' outputs concatenated in shard order equal the unsharded output bit for bit.
/// </summary>
internal sealed record ShardSpec(int Index, int Count)
{
    public static ShardSpec Parse(string text) => TryParse(text, out var spec) ? spec : throw new ArgumentException(Malformed(text));

    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ShardSpec? spec)
    {
        spec = null;
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            || count < 1 || index >= count)
            return false;
        spec = new ShardSpec(index, count);
        return true;
    }

    /// <summary>The one line for a <c>--shard</c> value that is not I/N.</summary>
    public static string Malformed(string text) => $"--shard '{text}' is not I/N with 0 <= I < N (e.g. 0/4 for the first of four shards).";

    /// <summary>Batches of <paramref name="batch"/> that <paramref name="total"/> inputs make (the last may be short).</summary>
    public long Batches(int total, int batch) => (total + (long)batch - 1) / batch;

    /// <summary>This shard's block of <paramref name="total"/> inputs encoded <paramref name="batch"/> at a time: first index and length.</summary>
    public (int Start, int Length) Range(int total, int batch)
    {
        long batches = Batches(total, batch);
        long first = Index * batches / Count, end = (Index + 1) * batches / Count;
        int start = (int)Math.Min(total, first * batch), stop = (int)Math.Min(total, end * batch);
        return (start, stop - start);
    }

    /// <summary>
    /// The largest batch at which <paramref name="total"/> inputs make at least <see cref="Count"/> batches, so that
    /// no shard is empty; 0 when there are fewer inputs than shards (no batch size helps).
    /// </summary>
    public int LargestBatchFillingEveryShard(int total) =>
        Count == 1 ? int.MaxValue : total < Count ? 0 : (total - 1) / (Count - 1);

    /// <summary>The shard's file in the output folder: names sort in shard order.</summary>
    public string FileName(string extension) => $"part-{Index:D5}-of-{Count:D5}{extension}";

    public override string ToString() => $"{Index}/{Count}";
}

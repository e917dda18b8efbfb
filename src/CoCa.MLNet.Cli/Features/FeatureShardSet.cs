using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli.Features;

/// <summary>
/// Checks that feature files are one complete featurize run before anything trains on them: the same encoder and
/// shape, the same split (<c>-of-N</c>) of the same input list, every shard there once, and their input ranges
/// tiling the list with no gap and no overlap. Missing, duplicated, overlapping or foreign shards are refused naming
/// them; a lone file written before shards kept their ranges is still read (nothing to mix it with).
/// </summary>
internal static class FeatureShardSet
{
    /// <summary>Names listed in a message before "... (N in all)".</summary>
    private const int Listed = 10;

    /// <summary>
    /// The files in shard order, after the checks; <paramref name="source"/> (the folder or file given) names the set in
    /// messages. <paramref name="unreadableInputs"/>: inputs of the run that the files leave out (featurize could not read them).
    /// </summary>
    public static string[] Order(string source, IReadOnlyList<string> files, IReadOnlyList<FeatureParquet.Info> infos, out long unreadableInputs)
    {
        unreadableInputs = 0;
        var first = infos[0];
        for (int i = 1; i < infos.Count; i++)
            if (infos[i].Output != first.Output || !infos[i].Shape.SequenceEqual(first.Shape) || infos[i].Fingerprint != first.Fingerprint)
                throw new InvalidDataException($"Shard '{files[i]}' holds {infos[i].Output} [{string.Join(", ", infos[i].Shape)}] of another encoder or shape than '{files[0]}' ({first.Output} [{string.Join(", ", first.Shape)}]); keep the shards of one model in a folder.");
        if (files.Count == 1 && infos[0].Shard is null) return [.. files];

        var legacy = Enumerable.Range(0, files.Count).Where(i => infos[i].Shard is null).Select(i => files[i]).ToList();
        if (legacy.Count > 0)
            throw new InvalidDataException($"Feature shards in '{source}' cannot be checked complete: {Names(legacy)} {(legacy.Count == 1 ? "has" : "have")} no shard ranges (written by an older coca featurize); featurize {(legacy.Count == 1 ? "it" : "them")} again.");
        var shards = infos.Select(i => i.Shard!).ToArray();

        // One split of one input list.
        for (int i = 1; i < shards.Length; i++)
        {
            if (shards[i].Count != shards[0].Count)
                throw new InvalidDataException($"Feature shards in '{source}' mix splits: '{files[0]}' is shard {shards[0].Index} of {shards[0].Count}, '{files[i]}' shard {shards[i].Index} of {shards[i].Count}; keep the shards of one run (one --shard I/N split) in a folder.");
            if (shards[i].InputListHash != shards[0].InputListHash || shards[i].TotalInputs != shards[0].TotalInputs)
                throw new InvalidDataException($"Feature shards in '{source}' come from different featurize runs: '{files[i]}' was made from another input list ({shards[i].TotalInputs} inputs) than '{files[0]}' ({shards[0].TotalInputs} inputs); keep the shards of one run in a folder.");
        }

        var order = Enumerable.Range(0, files.Count).OrderBy(i => shards[i].Index).ToArray();
        for (int k = 1; k < order.Length; k++)
            if (shards[order[k]].Index == shards[order[k - 1]].Index)
                throw new InvalidDataException($"Feature shards in '{source}': '{files[order[k - 1]]}' and '{files[order[k]]}' are both shard {shards[order[k]].Index} of {shards[0].Count}; keep one of them.");
        int count = shards[0].Count;
        var present = shards.Select(s => s.Index).ToHashSet();
        var missing = Enumerable.Range(0, count).Where(i => !present.Contains(i)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"Feature shards in '{source}' are incomplete: {missing.Count} of {count} missing ({Names(missing.Select(i => $"part-{i:D5}-of-{count:D5}.parquet").ToList())}); " +
                $"run coca featurize --shard I/{count} for {(missing.Count == 1 ? $"I = {missing[0]}" : "each of them")}, or wait for the jobs still running.");

        // The ranges must tile [0, total): in shard order, each starts where the one before ended.
        long expectedStart = 0;
        for (int k = 0; k < order.Length; k++)
        {
            var (file, shard, rows) = (files[order[k]], shards[order[k]], infos[order[k]].Rows);
            if (shard.FirstInput != expectedStart)
            {
                string previous = k == 0 ? "the start of the list" : $"'{files[order[k - 1]]}' ({shards[order[k - 1]].InputRange})";
                throw new InvalidDataException(shard.FirstInput < expectedStart
                    ? $"Feature shards in '{source}' overlap: '{file}' ({shard.InputRange}) and {previous} hold the same inputs (shards written with different batch sizes?); featurize the set again with one batch size."
                    : $"Feature shards in '{source}' leave a gap: inputs {expectedStart}..{shard.FirstInput - 1} are in no shard (between {previous} and '{file}', {shard.InputRange}); featurize the set again with one batch size.");
            }
            if (rows > shard.Inputs)
                throw new InvalidDataException($"Shard '{file}' holds {rows} rows for {shard.Inputs} inputs; it is damaged, featurize it again.");
            unreadableInputs += shard.Inputs - rows;
            expectedStart = shard.EndInput;
        }
        if (expectedStart != shards[0].TotalInputs)
            throw new InvalidDataException($"Feature shards in '{source}' stop at input {expectedStart} of {shards[0].TotalInputs}; featurize the set again.");
        return order.Select(i => files[i]).ToArray();
    }

    private static string Names(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(Listed).Select(n => $"'{Path.GetFileName(n)}'")) + (names.Count > Listed ? $", ... ({names.Count} in all)" : "");
}

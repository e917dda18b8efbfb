namespace CoCa.MLNet.Checkpoints;

/// <summary>Key clean-ups open_clip's <c>load_state_dict</c> applies to checkpoints.</summary>
internal static class StateDictKeys
{
    private const string ModulePrefix = "module.";

    /// <summary>
    /// Checkpoints saved from a DistributedDataParallel wrapper prefix every key with <c>module.</c>; open_clip strips it.
    /// Returns the key unchanged unless every key has the prefix.
    /// </summary>
    public static Func<string, string> ModulePrefixStripper(IReadOnlyCollection<string> keys) =>
        keys.Count > 0 && keys.All(k => k.StartsWith(ModulePrefix, StringComparison.Ordinal))
            ? k => k[ModulePrefix.Length..]
            : k => k;
}

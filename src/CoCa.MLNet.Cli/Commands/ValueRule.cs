namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// What values an option or argument takes: the rule its parse-time check (<see cref="OptionChecks"/>) enforces. Kept
/// beside each option so that the tests can feed every option of every command values the rule refuses: an option
/// added without a check has no rule, and those tests fail.
/// </summary>
internal abstract record ValueRule;

/// <summary>A whole number from <see cref="Min"/> to <see cref="Max"/>.</summary>
internal sealed record WholeNumberRule(int Min, int Max) : ValueRule;

/// <summary>A finite number between <see cref="Min"/> and <see cref="Max"/>, each end included or not.</summary>
internal sealed record NumberRule(double Min, bool MinIncluded, double Max, bool MaxIncluded) : ValueRule;

/// <summary>One of a few names (<c>--decoding beam</c>).</summary>
internal sealed record NameRule(IReadOnlyList<string> Names) : ValueRule;

/// <summary>Text of a form (<c>--shard 0/4</c>): <see cref="Example"/> is one, <see cref="Wrong"/> are not.</summary>
internal sealed record FormatRule(string Example, IReadOnlyList<string> Wrong) : ValueRule;

/// <summary>A file or folder the command reads: it must exist (what it holds is checked when the command runs).</summary>
internal sealed record ExistingPathRule(string What) : ValueRule;

/// <summary>
/// Inputs of a batch command (images to caption, featurize, predict): any path but an empty one; a missing one is named
/// when the command runs and the others are still processed.
/// </summary>
internal sealed record BatchInputsRule : ValueRule;

/// <summary>A file (or, with <see cref="Folder"/>, a folder) the command writes: not empty, not the other kind, not under a file.</summary>
internal sealed record OutputPathRule(bool Folder) : ValueRule;

/// <summary>Any text at all, the empty one included (texts to tokenize or embed): no value is wrong.</summary>
internal sealed record AnyTextRule : ValueRule;

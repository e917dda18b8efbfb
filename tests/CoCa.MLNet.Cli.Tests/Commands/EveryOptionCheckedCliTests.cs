using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using CoCa.MLNet.Cli;
using CoCa.MLNet.Cli.Commands;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// Every option of every <c>coca</c> command, enumerated from the real command tree (so an option added tomorrow is in
/// it), has a parse-time check, and the check refuses each wrong value of the option's kind (0, negative, NaN, "abc",
/// a path that does not exist, an unknown name, an empty string) with one message naming the option, before any work;
/// an option a command does not have is refused as unknown, never taken as an input path. Most cases run in process
/// through the parser coca uses (<see cref="CliRunner.Parse"/>); one per command runs the real coca (exit code 2, one
/// <c>coca:</c> line).
/// </summary>
public sealed partial class EveryOptionCheckedCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-cli-every-option-").FullName;
    private readonly string _aFile;

    public EveryOptionCheckedCliTests()
    {
        _aFile = Path.Combine(_dir, "a-file");
        File.WriteAllText(_aFile, "");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryOption_HasACheck_ThatRefusesEachWrongValueOfItsKind_InOneMessageNamingIt()
    {
        var root = CommandCatalog.Root();
        var problems = new List<string>();
        int cases = 0;
        foreach (var command in root.Subcommands)
            foreach (var option in command.Options)
            {
                // Flags take no value: a word after one is the next argument (checked as that), so none is wrong.
                if (option.ValueType == typeof(bool)) continue;
                if (OptionChecks.RuleOf(option) is not { } rule)
                {
                    problems.Add($"coca {command.Name} {option.Name}: no parse-time check (give it one from OptionChecks)");
                    continue;
                }
                if (Baseline(root, command, option) is not { } baseline)
                {
                    problems.Add($"coca {command.Name} {option.Name} {Valid(rule)}: no command line around it parses");
                    continue;
                }
                foreach (var wrong in Wrong(rule))
                {
                    cases++;
                    string[] args = Line(command, baseline, (option, wrong));
                    var errors = CliRunner.UsageErrors(CliRunner.Parse(root, args));
                    if (errors.Count != 1 || !errors[0].Contains(option.Name, StringComparison.Ordinal) || !errors[0].Contains(wrong, StringComparison.Ordinal))
                        problems.Add($"coca {Show(args)}\n    {(errors.Count == 0 ? "accepted" : string.Join("\n    ", errors))}");
                    else if (InUsersWords(command, errors[0]) is { } why)
                        problems.Add($"coca {Show(args)}\n    {errors[0]}\n    {why}");
                }
            }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(cases > 200, $"only {cases} cases");
    }

    [Fact]
    public void AnOptionACommandDoesNotHave_IsRefusedAsUnknown_NeverTakenAsAnInput_UnlessAfterDoubleDash()
    {
        var root = CommandCatalog.Root();
        var everyName = root.Subcommands.SelectMany(c => c.Options).Select(o => o.Name).Distinct().ToList();
        var problems = new List<string>();
        foreach (var command in root.Subcommands)
        {
            var baseline = Baseline(root, command, null) ?? throw new InvalidOperationException($"coca {command.Name}: no command line parses");
            var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
            // An option of another command (e.g. caption --skip-unreadable before caption had it), a made-up one, a short one.
            var foreign = everyName.First(n => !names.Contains(n));
            foreach (var unknown in new[] { foreign, "--no-such-option", "-z" })
                foreach (var args in new[] { [command.Name, unknown, .. Line(command, baseline)[1..]], Line(command, baseline, (null, unknown)) })
                {
                    var errors = CliRunner.UsageErrors(CliRunner.Parse(root, args));
                    var expected = $"Unknown option '{unknown}' for coca {command.Name}; coca {command.Name} --help lists its options.";
                    if (errors.Count != 1 || errors[0] != expected)
                        problems.Add($"coca {Show(args)}\n    {(errors.Count == 0 ? "accepted" : string.Join("\n    ", errors))}");
                }
            // After "--", a word starting with '-' is an argument (a text, a path), not an option.
            if (command.Arguments.Count > 0)
            {
                string[] args = [.. Line(command, baseline), "--", "-x"];
                var errors = CliRunner.UsageErrors(CliRunner.Parse(root, args));
                if (errors.Any(e => e.Contains("Unknown option", StringComparison.Ordinal)))
                    problems.Add($"coca {Show(args)}\n    {string.Join("\n    ", errors)}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(["Unknown option '--no-such-option' for coca; coca --help lists its options."], CliRunner.UsageErrors(CliRunner.Parse(root, ["--no-such-option"])));
        Assert.Equal(["Unknown command 'featurise'; coca --help lists the commands."], CliRunner.UsageErrors(CliRunner.Parse(root, ["featurise"])));
    }

    [Fact]
    public void TheRealCoca_RefusesAWrongValueAndAnUnknownOption_WithOneLine_ExitCode2_BeforeAnyWork()
    {
        var root = CommandCatalog.Root();
        foreach (var command in root.Subcommands)
        {
            // Each command's first checked option, with its first wrong value.
            var (option, rule) = command.Options.Select(o => (Option: o, Rule: OptionChecks.RuleOf(o))).First(o => o.Rule is not null);
            var wrong = Wrong(rule!).First();
            var run = CliProcess.Run(Line(command, Baseline(root, command, option)!, (option, wrong)));
            AssertUsageError(run, option.Name, wrong);
        }
        // The issue's case: an option caption did not have was taken as an image path.
        var caption = root.Subcommands.Single(c => c.Name == "caption");
        var unknown = CliProcess.Run(Line(caption, Baseline(root, caption, null)!, (null, "--skip-unreadables")));
        AssertUsageError(unknown, "Unknown option '--skip-unreadables' for coca caption");
        Assert.Equal(new[] { _aFile }, Directory.GetFileSystemEntries(_dir));   // nothing written, no output folder made
    }

    private static void AssertUsageError(CliProcess.Result run, params string[] expected)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.StdErr}");
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: ", line);
        foreach (var e in expected) Assert.Contains(e, line);
        Assert.Equal("", run.StdOut);
    }

    /// <summary>
    /// Values that make a command line of <paramref name="command"/> parse with <paramref name="target"/> (when given)
    /// at a valid value: its required options and arguments, plus up to three other options where the command needs
    /// them together (train: --model or --checkpoint, and --data or --features; and --cache for --cache-limit).
    /// </summary>
    private List<(Symbol Symbol, string Value)>? Baseline(RootCommand root, Command command, Option? target)
    {
        var required = new List<(Symbol, string)>();
        foreach (var option in command.Options.Where(o => o.Required && o != target)) required.Add((option, Valid(option)));
        foreach (var argument in command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0)) required.Add((argument, Valid(argument)));
        var optional = command.Options.Where(o => !o.Required && o != target && o.ValueType != typeof(bool)).Select(o => ((Symbol)o, Valid(o)))
            .Concat(command.Arguments.Where(a => a.Arity.MinimumNumberOfValues == 0).Select(a => ((Symbol)a, Valid(a)))).ToList();
        var extras = new List<List<(Symbol, string)>> { new() };
        extras.AddRange(optional.Select(o => new List<(Symbol, string)> { o }));
        for (int i = 0; i < optional.Count; i++)
            for (int j = i + 1; j < optional.Count; j++)
                extras.Add([optional[i], optional[j]]);
        for (int i = 0; i < optional.Count; i++)
            for (int j = i + 1; j < optional.Count; j++)
                for (int k = j + 1; k < optional.Count; k++)
                    extras.Add([optional[i], optional[j], optional[k]]);
        foreach (var extra in extras)
        {
            var candidate = required.Concat(extra).ToList();
            var args = target is null ? Line(command, candidate) : Line(command, candidate, (target, Valid(target)));
            if (CliRunner.UsageErrors(CliRunner.Parse(root, args)).Count == 0) return candidate;
        }
        return null;
    }

    /// <summary>The command line: the command, options, <paramref name="last"/> (an option and its value), then the arguments.</summary>
    private static string[] Line(Command command, List<(Symbol Symbol, string Value)> values, (Option? Option, string Value)? last = null)
    {
        var line = new List<string> { command.Name };
        foreach (var (symbol, value) in values)
            if (symbol is Option option) line.AddRange([option.Name, value]);
        if (last is var (lastOption, lastValue))
        {
            if (lastOption is not null) line.Add(lastOption.Name);
            line.Add(lastValue);
        }
        foreach (var (symbol, value) in values)
            if (symbol is Argument) line.Add(value);
        return [.. line];
    }

    private string Valid(Symbol symbol) => Valid(OptionChecks.RuleOf(symbol) ?? throw new InvalidOperationException($"{symbol.Name} has no check"));

    /// <summary>A value the rule accepts.</summary>
    private string Valid(ValueRule rule) => rule switch
    {
        WholeNumberRule w => Math.Clamp(1, w.Min, w.Max).ToString(CultureInfo.InvariantCulture),
        NumberRule n => (n.MinIncluded ? n.Min : double.IsFinite(n.Max) ? (n.Min + n.Max) / 2 : n.Min + 1).ToString(CultureInfo.InvariantCulture),
        NameRule n => n.Names[0],
        FormatRule f => f.Example,
        ExistingPathRule or BatchInputsRule => _dir,
        OutputPathRule { Folder: false } => Path.Combine(_dir, "out", "file.out"),
        OutputPathRule => Path.Combine(_dir, "out"),
        AnyTextRule => "a text",
        _ => throw new InvalidOperationException($"no valid value for {rule}"),
    };

    /// <summary>Values of the rule's kind that it refuses; none for any text.</summary>
    private IEnumerable<string> Wrong(ValueRule rule)
    {
        static string Number(double v) => v.ToString(CultureInfo.InvariantCulture);
        switch (rule)
        {
            case WholeNumberRule w:
                yield return "abc";
                yield return "1.5";
                yield return "NaN";
                yield return "";
                if (w.Min > int.MinValue) yield return Number(w.Min - 1.0);
                if (w.Max < int.MaxValue) yield return Number(w.Max + 1.0);
                break;
            case NumberRule n:
                yield return "abc";
                yield return "0,5";   // a decimal comma: numbers are read the same on every machine
                yield return "NaN";
                yield return "Infinity";
                yield return "";
                yield return Number(n.MinIncluded ? n.Min - 1 : n.Min);
                if (double.IsFinite(n.Max)) yield return Number(n.MaxIncluded ? n.Max + 1 : n.Max);
                break;
            case NameRule:
                yield return "no-such-name";
                yield return "";
                break;
            case FormatRule f:
                yield return "";
                foreach (var w in f.Wrong) yield return w;
                break;
            case ExistingPathRule:
                yield return Path.Combine(_dir, "no-such-path");
                yield return "";
                break;
            case BatchInputsRule:
                yield return "";   // a missing input is named when the command runs, and the others still processed
                break;
            case OutputPathRule { Folder: false }:
                yield return "";
                yield return _dir;                             // a folder
                yield return Path.Combine(_aFile, "out.file");  // under a file
                break;
            case OutputPathRule:
                yield return "";
                yield return _aFile;                           // a file
                yield return Path.Combine(_aFile, "sub");       // under a file
                break;
        }
    }

    /// <summary>
    /// Why <paramref name="message"/> is not in the user's words: a library property name or .NET type, or an option
    /// <paramref name="command"/> does not have (quoted values, which are what the user typed, aside). Null when it is.
    /// </summary>
    private static string? InUsersWords(Command command, string message)
    {
        foreach (var word in new[] { "System.", "(Parameter", "Options.", "Int32", "Double" })
            if (message.Contains(word, StringComparison.Ordinal)) return $"says '{word}'";
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).Append("--help").ToHashSet();
        foreach (Match m in OptionName().Matches(Quoted().Replace(message, "")))
            if (!names.Contains(m.Value)) return $"names {m.Value}, which coca {command.Name} does not have";
        return null;
    }

    private static string Show(string[] args) => string.Join(' ', args.Select(a => a.Length == 0 ? "''" : a));

    [GeneratedRegex("(?<![\\w-])--?[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();

    [GeneratedRegex("'[^']*'")]
    private static partial Regex Quoted();
}

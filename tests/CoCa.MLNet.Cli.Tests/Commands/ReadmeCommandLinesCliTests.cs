using System.CommandLine;
using System.Text.RegularExpressions;
using CoCa.MLNet.Cli.Commands;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// Every <c>coca</c> command line the READMEs show, in its code blocks and inline code, names a command coca has and
/// only options that command has, so the README never shows an option that was renamed or removed.
/// </summary>
public sealed partial class ReadmeCommandLinesCliTests
{
    [GeneratedRegex(@"^```[a-z]*\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"`([^`\n]+)`")]
    private static partial Regex InlineCode();

    /// <summary><c>coca CMD …</c>, or the CLI run through dotnet (<c>… CoCa.MLNet.Cli -- CMD …</c>).</summary>
    [GeneratedRegex(@"(?:^|[\s(])(?:coca|CoCa\.MLNet\.Cli --)\s+([a-z][a-z-]*)(.*)$")]
    private static partial Regex CocaLine();

    [GeneratedRegex(@"""[^""]*""|'[^']*'|\S+")]
    private static partial Regex ShellWord();

    internal static IEnumerable<string> ReadmeCommandLines(string readme)
    {
        readme = readme.ReplaceLineEndings("\n");
        foreach (Match block in FencedBlock().Matches(readme))
            foreach (var line in block.Groups[1].Value.Replace("\\\n", " ").Split('\n'))
            {
                var code = line.Split(" #")[0];   // a shell comment
                if (CocaLine().IsMatch(code)) yield return code.Trim();
            }
        var prose = FencedBlock().Replace(readme, "");
        foreach (Match span in InlineCode().Matches(prose))
            if (CocaLine().IsMatch(span.Groups[1].Value)) yield return span.Groups[1].Value.Trim();
    }

    /// <summary>What is wrong with one line: an unknown command, or options its command does not have.</summary>
    internal static IEnumerable<string> Problems(string line, IReadOnlyList<Command> commands)
    {
        var match = CocaLine().Match(line);
        var command = commands.FirstOrDefault(c => c.Name == match.Groups[1].Value);
        if (command is null)
        {
            yield return $"'{line}': coca has no command '{match.Groups[1].Value}'";
            yield break;
        }
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).Append("--help").ToHashSet();
        foreach (Match word in ShellWord().Matches(match.Groups[2].Value))
        {
            var token = word.Value.Trim('[', ']', ',', '.', ';', ')');
            if (token == "--") yield break;   // what follows is arguments, even when it starts with "-"
            var option = token.Split('=')[0];
            if (option.StartsWith("--", StringComparison.Ordinal) && !names.Contains(option))
                yield return $"'{line}': coca {command.Name} has no option {option}";
        }
    }

    [Theory]
    [InlineData("README.md", 20)]
    [InlineData("benchmarks/README.md", 3)]
    public void EveryCocaCommandLineInTheReadme_UsesACommandAndOptionsCocaHas(string readme, int atLeast)
    {
        var commands = CommandCatalog.Root().Subcommands.ToList();
        var lines = ReadmeCommandLines(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, readme))).ToList();
        Assert.True(lines.Count >= atLeast, $"only {lines.Count} coca command lines found in {readme}: is the pattern still right?");
        var problems = lines.SelectMany(line => Problems(line, commands)).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void AnOptionTheCommandLacks_OrACommandCocaLacks_IsFound()
    {
        var commands = CommandCatalog.Root().Subcommands.ToList();
        var found = ReadmeCommandLines("Run `coca train --data d --no-such-option 3`.\n```bash\ncoca featurise --model m\n"
            + "coca tokenize --vocab v -- \"--not-an-option\"   # --neither-in-a-comment\n```\n").ToList();
        Assert.Equal(3, found.Count);
        Assert.Equal(["'coca featurise --model m': coca has no command 'featurise'",
                      "'coca train --data d --no-such-option 3': coca train has no option --no-such-option"],
            found.SelectMany(line => Problems(line, commands)).Order().ToArray());
    }
}

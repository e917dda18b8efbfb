using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CoCa.MLNet.Cli;

/// <summary>
/// Runs the command line: a usage error (an unknown option, a value its check refuses) ends with one clear line on
/// stderr and exit code 2 before any work; a failure while running, with one line and exit code 1; Ctrl+C as
/// <see cref="Interruption"/> says.
/// </summary>
internal static class CliRunner
{
    /// <summary>
    /// Without POSIX bundling: coca's short options all take a value, and bundling would read a text or path such as
    /// '-hello' as '-h' (help) and more, instead of refusing it as an unknown option.
    /// </summary>
    private static readonly ParserConfiguration Configuration = new() { EnablePosixBundling = false };

    public static int Run(RootCommand root, string[] args) => Run(Parse(root, args));

    /// <summary>Parses as <c>coca</c> does: the checks of every option and of options together run here.</summary>
    internal static ParseResult Parse(RootCommand root, IReadOnlyList<string> args) => root.Parse(args, Configuration);

    private static int Run(ParseResult parse)
    {
        var errors = UsageErrors(parse);
        if (errors.Count > 0)
        {
            // One line however many mistakes: each message is a sentence of its own.
            Console.Error.WriteLine($"coca: {string.Join(" ", errors)}");
            return 2;
        }
        try
        {
            using var interruption = Interruption.Watch();
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (OptionValueException e)
        {
            Console.Error.WriteLine($"coca: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"coca: {Describe(e)}");
            if (Environment.GetEnvironmentVariable("COCA_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
        finally
        {
            NoteClippedGreyImages();
        }
    }

    /// <summary>One line when 16-bit greyscale PNGs went in: open_clip's preprocessing (and ours) turns them near-white.</summary>
    private static void NoteClippedGreyImages()
    {
        var (count, first) = Preprocessing.ClippedGreyImages.Seen;
        if (count == 0) return;
        Console.Error.WriteLine($"coca: note: {(count == 1 ? $"'{first}' is a 16-bit greyscale PNG" : $"{count} images ('{first}', ...) are 16-bit greyscale PNGs")}: " +
            "open_clip's preprocessing (PIL) clips their values above 255 to white, and so does CoCa.MLNet (equal numbers), so the model saw near-white pictures; convert them to 8 bits to keep their contrast.");
    }

    /// <summary>
    /// What is wrong with the command line, one message each, in the user's words; empty when it can run. Tokens the
    /// command cannot place (an option it does not have, a stray word) come alone: the parser's other complaints then
    /// follow from them. A path or text argument, and an option taking several values, accept any token, so a token
    /// there that starts with '-' (and is not a number) is an option the command does not have, unless it comes after
    /// <c>--</c>: it is never taken as an input path.
    /// </summary>
    internal static IReadOnlyList<string> UsageErrors(ParseResult parse)
    {
        var command = parse.CommandResult;
        var name = CommandPath(command);
        var takeAnything = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        foreach (var child in command.Children)
            if (child is ArgumentResult or OptionResult { Option.Arity.MaximumNumberOfValues: > 1 })
                takeAnything.UnionWith(child.Tokens);
        var beforeDoubleDash = parse.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash).ToList();
        var unknown = beforeDoubleDash.Where(t => takeAnything.Contains(t) && LooksLikeOption(t.Value)).Select(t => t.Value)
            .Concat(parse.UnmatchedTokens.Where(t => LooksLikeOption(t) && beforeDoubleDash.Any(b => b.Value == t)))
            .Distinct().ToList();
        // The words after an unknown option are misplaced because of it: it alone is the mistake to name.
        if (unknown.Count > 0) return unknown.Select(t => $"Unknown option '{t}' for {name}; {name} --help lists its options.").ToList();
        if (parse.UnmatchedTokens.Count > 0)
            return parse.UnmatchedTokens.Distinct().Select(t => command.Parent is null
                ? $"Unknown command '{t}'; coca --help lists the commands."
                : $"Unexpected argument '{t}' for {name}; {name} --help lists what it takes.").ToList();
        return parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ")).Distinct().ToList();
    }

    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>"coca caption": the command as typed, whatever the executable's name.</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (var c = command; c.Parent is CommandResult parent; c = parent) names.Insert(0, c.Command.Name);
        return string.Join(' ', ["coca", .. names]);
    }

    /// <summary>
    /// The innermost meaningful message (type initializer, aggregate and ML.NET's splitter/consolidator wrappers say
    /// nothing to a user).
    /// </summary>
    internal static string Describe(Exception e) => WithoutArgumentSuffixes(CoCa.MLNet.Transforms.InputErrors.Unwrap(e)).ReplaceLineEndings(" ");

    /// <summary>
    /// The message without what .NET appends to an <see cref="ArgumentException"/>'s (" (Parameter 'Options')", "Actual
    /// value was 3."): the parameter is a library name the user never typed, and the message already says the value.
    /// </summary>
    private static string WithoutArgumentSuffixes(Exception e)
    {
        var message = e.Message;
        if (e is not ArgumentException argument) return message;
        if (argument is ArgumentOutOfRangeException { ActualValue: not null } && message.LastIndexOf(Environment.NewLine, StringComparison.Ordinal) is int end and >= 0)
            message = message[..end];
        var parameter = $" (Parameter '{argument.ParamName}')";
        return argument.ParamName is not null && message.EndsWith(parameter, StringComparison.Ordinal) ? message[..^parameter.Length] : message;
    }
}

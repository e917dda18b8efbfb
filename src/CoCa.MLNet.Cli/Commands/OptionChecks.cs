using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.CompilerServices;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// Checks of option values at parse time, before any work, in the words the user typed: <c>--epochs must be at least 1
/// (got 0)</c>, not the library's option-property names; a bad value is a usage error (exit code 2). Each check records
/// its <see cref="ValueRule"/> (<see cref="RuleOf"/>). Also the checks of output paths, run again before writing.
/// </summary>
internal static class OptionChecks
{
    private static readonly ConditionalWeakTable<Symbol, ValueRule> Rules = new();

    /// <summary>The rule the parse-time check of <paramref name="symbol"/> enforces; null when it has no check.</summary>
    internal static ValueRule? RuleOf(Symbol symbol) => Rules.TryGetValue(symbol, out var rule) ? rule : null;

    private static T Follows<T>(this T symbol, ValueRule rule) where T : Symbol
    {
        Rules.AddOrUpdate(symbol, rule);
        return symbol;
    }

    // ---- Whole numbers. Read with the invariant culture, whatever the machine's; "abc" or "1.5" is refused by name.

    public static Option<int> AtLeast(this Option<int> option, int min) => option.Between(min, int.MaxValue);

    public static Option<int?> AtLeast(this Option<int?> option, int min)
    {
        option.CustomParser = r => TryParseWhole(r, option.Name, min, int.MaxValue, out int v) ? v : null;
        return option.CheckWhole(min, int.MaxValue, null);
    }

    /// <summary><paramref name="min"/> to <paramref name="max"/>; <paramref name="why"/>, when given, ends the message.</summary>
    public static Option<int> Between(this Option<int> option, int min, int max, string? why = null)
    {
        option.CustomParser = r => TryParseWhole(r, option.Name, min, max, out int v) ? v : 0;
        return option.CheckWhole(min, max, why);
    }

    /// <summary>Any whole number (a seed): only text that is not one is refused.</summary>
    public static Option<int> AnyWholeNumber(this Option<int> option) => option.Between(int.MinValue, int.MaxValue);

    private static T CheckWhole<T>(this T option, int min, int max, string? why) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.Implicit || !int.TryParse(Text(r), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) || (v >= min && v <= max)) return;
            string range = max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be {range} (got {v}){(why is null ? "." : $": {why}.")}"));
        });
        return option.Follows(new WholeNumberRule(min, max));
    }

    private static bool TryParseWhole(ArgumentResult r, string name, int min, int max, out int value)
    {
        var text = Text(r);
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        // A whole number too large (or small) for an int: its range is what the user needs, not "a whole number".
        r.AddError(System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? string.Create(CultureInfo.InvariantCulture, $"{name} must be {min} to {max} (got {text}).")
            : $"{name} must be a whole number (got '{text}').");
        return false;
    }

    // ---- Numbers: finite, in a range. Read with the invariant culture ("0.5", never "0,5").

    public static Option<double> Positive(this Option<double> option) => option.InRange(0, false, double.PositiveInfinity, false);

    /// <summary>An optional positive number: when given, checked as <see cref="Positive(Option{double})"/>.</summary>
    public static Option<double?> Positive(this Option<double?> option) => option.InRange(0, false, double.PositiveInfinity, false);

    /// <summary>0 or more (a weight, a clip norm where 0 means none).</summary>
    public static Option<double> NotNegative(this Option<double> option) => option.InRange(0, true, double.PositiveInfinity, false);

    /// <summary>A share: at least 0 and below 1.</summary>
    public static Option<double> Fraction(this Option<double> option) => option.InRange(0, true, 1, false);

    public static Option<double> InRange(this Option<double> option, double min, bool minIncluded, double max, bool maxIncluded)
    {
        option.CustomParser = r => TryParseNumber(r, option.Name, out double v) ? v : 0;
        return option.CheckNumber(new NumberRule(min, minIncluded, max, maxIncluded));
    }

    public static Option<double?> InRange(this Option<double?> option, double min, bool minIncluded, double max, bool maxIncluded)
    {
        option.CustomParser = r => TryParseNumber(r, option.Name, out double v) ? v : null;
        return option.CheckNumber(new NumberRule(min, minIncluded, max, maxIncluded));
    }

    private static T CheckNumber<T>(this T option, NumberRule rule) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.Implicit || !double.TryParse(Text(r), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || Accepts(rule, v)) return;
            r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be {Describe(rule)} (got {v})."));
        });
        return option.Follows(rule);
    }

    private static bool Accepts(NumberRule rule, double v) =>
        double.IsFinite(v)
        && (rule.MinIncluded ? v >= rule.Min : v > rule.Min)
        && (rule.MaxIncluded ? v <= rule.Max : v < rule.Max);

    /// <summary>"a positive number", "0 or more", "at least 0 and below 1", "above 0 and at most 1".</summary>
    private static string Describe(NumberRule rule)
    {
        string min = rule.Min.ToString(CultureInfo.InvariantCulture), max = rule.Max.ToString(CultureInfo.InvariantCulture);
        return double.IsPositiveInfinity(rule.Max)
            ? rule.Min == 0 && !rule.MinIncluded ? "a positive number" : rule.MinIncluded ? $"{min} or more" : $"above {min}"
            : $"{(rule.MinIncluded ? "at least" : "above")} {min} and {(rule.MaxIncluded ? "at most" : "below")} {max}";
    }

    private static bool TryParseNumber(ArgumentResult r, string name, out double value)
    {
        var text = Text(r);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        r.AddError($"{name} must be a number (got '{text}').");
        return false;
    }

    // ---- Text: names, forms, paths.

    /// <summary>One of <paramref name="names"/> (shown in help and offered by completion).</summary>
    public static T OneOf<T>(this T option, IReadOnlyList<string> names, bool ignoreCase = false) where T : Option
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        option.HelpName ??= string.Join('|', names);
        option.CompletionSources.Add(_ => names.Select(n => new System.CommandLine.Completions.CompletionItem(n)));
        option.CheckText(text => names.Any(n => string.Equals(n, text, comparison)) ? null
            : $"{option.Name} must be one of {string.Join(", ", names)} (got '{text}').");
        return option.Follows(new NameRule(names));
    }

    /// <summary>
    /// Text of a form that <paramref name="problem"/> checks (null: fine; else the message). <paramref name="example"/>
    /// is a value of the form and <paramref name="wrong"/> some that are not, for the tests.
    /// </summary>
    public static T Format<T>(this T option, Func<string, string?> problem, string example, params string[] wrong) where T : Option
    {
        option.CheckText(text => text.Length == 0 ? $"{option.Name} is empty; expected a value like {example}." : problem(text));
        return option.Follows(new FormatRule(example, wrong));
    }

    /// <summary>A file or folder the command reads (<paramref name="what"/>, e.g. "a converted model folder"): it must exist.</summary>
    public static T Existing<T>(this T option, string what) where T : Option
    {
        option.CheckText(text => MissingPath(text, option.Name, what));
        return option.Follows(new ExistingPathRule(what));
    }

    /// <summary>The argument form of <see cref="Existing{T}(T, string)"/>.</summary>
    public static Argument<string> Existing(this Argument<string> argument, string what)
    {
        argument.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                if (MissingPath(token.Value, null, what) is { } message) r.AddError(message);
        });
        return argument.Follows(new ExistingPathRule(what));
    }

    private static string? MissingPath(string text, string? name, string what) =>
        text.Length == 0 ? $"{name ?? "An input path"} is empty; expected {what}."
        : File.Exists(text) || Directory.Exists(text) ? null
        : $"{(name is null ? "" : name + " ")}'{text}' does not exist; expected {what}.";

    /// <summary>
    /// The inputs of a batch command (<paramref name="what"/>): any path but an empty one. A missing one is not refused
    /// here: the command names it and processes the others.
    /// </summary>
    public static T BatchInputs<T>(this T option, string what) where T : Option
    {
        option.CheckText(text => text.Length == 0 ? $"{option.Name} has an empty path; expected {what}." : null);
        return option.Follows(new BatchInputsRule());
    }

    /// <summary>The argument form of <see cref="BatchInputs{T}(T, string)"/>.</summary>
    public static Argument<string[]> BatchInputs(this Argument<string[]> argument, string what)
    {
        argument.Validators.Add(r =>
        {
            if (r.Tokens.Any(t => t.Value.Length == 0)) r.AddError($"An input path is empty; expected {what}.");
        });
        return argument.Follows(new BatchInputsRule());
    }

    /// <summary>Texts taken as they are, the empty one included: no check, deliberately.</summary>
    public static Argument<string[]> AnyText(this Argument<string[]> argument) => argument.Follows(new AnyTextRule());

    /// <summary>
    /// A file the command writes: not empty, not a folder, not under a file (<see cref="OutputPathProblem"/>).
    /// Whether the folder takes new files is checked when the command starts (<see cref="CheckOutputFile"/>).
    /// </summary>
    public static T OutputFile<T>(this T option, string example) where T : Option => option.OutputFile(_ => example);

    /// <summary>
    /// <see cref="OutputFile{T}(T, string)"/> with an example that depends on other options, and
    /// <paramref name="folderWhen"/>: what the option names instead when it names a folder (<c>featurize --shard</c>).
    /// </summary>
    public static T OutputFile<T>(this T option, Func<OptionResult, string> example, Func<OptionResult, string?>? folderWhen = null) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.Implicit) return;
            var folder = folderWhen?.Invoke(r);
            if ((folder is null ? OutputPathProblem(Text(r), option.Name, example(r)) : OutputFolderProblem(Text(r), option.Name, folder)) is { } message)
                r.AddError(message);
        });
        return option.Follows(new OutputPathRule(Folder: false));
    }

    /// <summary>A folder the command writes into (<paramref name="what"/>): not empty, not a file, not under a file.</summary>
    public static T OutputFolder<T>(this T option, string what) where T : Option
    {
        option.CheckText(text => OutputFolderProblem(text, option.Name, what));
        return option.Follows(new OutputPathRule(Folder: true));
    }

    /// <summary>Why <paramref name="path"/> cannot be the file <paramref name="flag"/> writes, from the path alone; null when it can.</summary>
    internal static string? OutputPathProblem(string path, string flag, string example)
    {
        if (path.Length == 0) return $"{flag} is empty; expected the path of the file to write (for example {example}).";
        if (Directory.Exists(path))
            return $"{flag} '{path}' is a folder; expected the path of the file to write (for example {Path.Combine(path, example)}).";
        return FileAbove(path, flag);
    }

    private static string? OutputFolderProblem(string path, string flag, string what)
    {
        if (path.Length == 0) return $"{flag} is empty; expected {what}.";
        if (File.Exists(path)) return $"{flag} '{path}' is a file; expected {what}.";
        return FileAbove(path, flag);
    }

    /// <summary>A file where <paramref name="path"/> needs a folder (nothing can be written under a file).</summary>
    private static string? FileAbove(string path, string flag)
    {
        string? full;
        try { full = Path.GetDirectoryName(Path.GetFullPath(path)); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { return $"{flag} '{path}' is not a valid path ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)})."; }
        for (; full is not null; full = Path.GetDirectoryName(full))
        {
            if (Directory.Exists(full)) return null;
            if (File.Exists(full)) return $"{flag} '{path}' cannot be written: '{full}' is a file, not a folder.";
        }
        return null;
    }

    /// <summary>
    /// Refuses, before any work, an output file path (<paramref name="flag"/>'s value) that is a folder or whose folder
    /// cannot be created or written to. The folder is created when missing.
    /// </summary>
    public static void CheckOutputFile(string path, string flag, string example)
    {
        if (OutputPathProblem(path, flag, example) is { } problem) throw new ArgumentException(problem);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        try
        {
            Directory.CreateDirectory(folder);
            // The file itself is written beside its final name and then renamed: the folder must take new files.
            File.Create(Path.Combine(folder, $".coca-write-check-{Guid.NewGuid():N}"), 1, FileOptions.DeleteOnClose).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException($"{flag} '{path}' cannot be written: folder '{folder}' does not take new files ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
        }
        if (File.Exists(full) && File.GetAttributes(full).HasFlag(FileAttributes.ReadOnly))
            throw new UnauthorizedAccessException($"{flag} '{path}' is a read-only file; remove it or choose another path.");
    }

    private static void CheckText(this Option option, Func<string, string?> problem) =>
        option.Validators.Add(r =>
        {
            if (r.Implicit) return;
            foreach (var token in r.Tokens)
                if (problem(token.Value) is { } message)
                {
                    r.AddError(message);
                    return;
                }
        });

    /// <summary>The value as typed (the last one when an option is repeated).</summary>
    private static string Text(SymbolResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    // ---- Devices.

    /// <summary>
    /// <c>--device cpu|cuda|cuda:N</c>, the same names as the library's <c>Device</c> options, checked at parse time by the
    /// library's one parser (<see cref="ComputeDevice"/>).
    /// </summary>
    public static Option<string> Device(string needs)
    {
        var option = new Option<string>("--device") { Description = $"cpu, cuda or cuda:N ({needs})", DefaultValueFactory = _ => "cpu" };
        return option.Format(text => ComputeDevice.TryParse(text, out _) ? null
            : $"{option.Name} '{text}' is not recognised; expected \"cpu\", \"cuda\" or \"cuda:N\".", "cuda:0", "gpu0", "cuda:-1");
    }

    /// <summary>The old spelling <c>--gpu N</c> of <c>--device cuda:N</c>, kept working but hidden from help.</summary>
    public static Option<int?> LegacyGpu() =>
        new Option<int?>("--gpu") { Description = "Deprecated: --device cuda:N", Hidden = true }.AtLeast(0);

    /// <summary>The device named by <c>--device</c>, or by the deprecated <c>--gpu N</c> when given.</summary>
    public static string DeviceValue(this ParseResult parse, Option<string> device, Option<int?> legacyGpu) =>
        parse.GetValue(legacyGpu) is int gpu ? ComputeDevice.Cuda(gpu).ToString() : parse.GetValue(device)!;

    /// <summary>
    /// Says on stderr, in one line, that <c>--device cuda</c> fell back to the CPU (ONNX Runtime's CPU build, or no CUDA
    /// here): the library does so quietly (<see cref="OnnxExecutionOptions.FallbackToCpu"/>), a command line should not.
    /// </summary>
    public static void NoteCpuFallback(OnnxExecutionOptions execution, bool onGpu)
    {
        if (execution.ComputeDevice.CudaIndex is not null && !onGpu)
            Console.Error.WriteLine($"coca: note: --device {execution.Device}: CUDA cannot be used here (it needs coca's GPU build, -p:OnnxRuntime=Gpu, and CUDA 13); running on the CPU.");
    }

    // ---- Several options together (command validators).

    /// <summary>Whether the user typed <paramref name="option"/> (not its default).</summary>
    public static bool Given(this SymbolResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>Whether the user typed <paramref name="option"/> (not its default).</summary>
    public static bool Given(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>
    /// <paramref name="option"/>'s value (typed or default) for a check of several options; false when it is not a valid
    /// value on its own (its own check names it), so that the check of several does not also complain about it.
    /// </summary>
    public static bool TryGetValid<T>(this SymbolResult result, Option<T> option, out T value)
    {
        value = default!;
        // Results of options with a default are made in the command's order: check on the later of two options.
        if (result.GetResult(option) is null && option.HasDefaultValue)
            throw new InvalidOperationException($"{option.Name} has no result yet: check it from an option declared after it.");
        try { value = result.GetValue(option)!; }
        catch (InvalidOperationException) { return false; }   // not a number: its parser said so
        return RuleOf(option) switch
        {
            WholeNumberRule w => value is not int i || (i >= w.Min && i <= w.Max),
            NumberRule n => value is not double d || Accepts(n, d),
            _ => true,
        };
    }
}

using System.Globalization;

namespace CoCa.MLNet.Samples;

/// <summary>
/// <c>--name value</c> options of a sample. Unknown options and missing values fail with the option's name and the
/// usage text, so a typo never silently falls back to built-in data.
/// </summary>
public sealed class SampleArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private SampleArguments(string usage) => Usage = usage;

    public string Usage { get; }
    public bool HelpRequested { get; private init; }

    /// <param name="options">The accepted option names without dashes, with a description each.</param>
    public static SampleArguments Parse(string[] args, string program, string summary, IReadOnlyDictionary<string, string> options)
    {
        int width = Math.Max(12, options.Keys.Max(k => k.Length));   // a long name (--trainable-blocks) still leaves a column
        string usage = $"{program}: {summary}\n\nOptions:\n" + string.Concat(options.Select(o => $"  --{o.Key.PadRight(width)} {o.Value}\n")) + $"  --{"help".PadRight(width)} this text\n";
        if (args.Contains("--help") || args.Contains("-h")) return new SampleArguments(usage) { HelpRequested = true };
        var parsed = new SampleArguments(usage);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || !options.ContainsKey(args[i][2..]))
                throw new ArgumentException($"Unknown argument '{args[i]}'.\n\n{usage}");
            if (i + 1 >= args.Length) throw new ArgumentException($"Option '{args[i]}' needs a value.\n\n{usage}");
            parsed._values[args[i][2..]] = args[++i];
        }
        return parsed;
    }

    /// <summary>
    /// A sample's Main: parses <paramref name="args"/>, prints usage for --help, runs <paramref name="run"/>, and turns
    /// bad input (unknown option, missing file, unreadable data) into one "error: …" line and exit code 1.
    /// </summary>
    public static int RunMain(string[] args, string program, string summary, IReadOnlyDictionary<string, string> options, Action<SampleArguments> run)
    {
        try
        {
            var arguments = Parse(args, program, summary, options);
            if (arguments.HelpRequested) { Console.Write(arguments.Usage); return 0; }
            // Input paths are checked before any work: a mistyped --data fails now, not after minutes of training the
            // tiny CoCa or featurizing.
            foreach (var name in InputPathOptions) arguments.GetExistingPath(name);
            run(arguments);
            return 0;
        }
        catch (Exception e) when (InputErrors.IsInputError(e))
        {
            Console.Error.WriteLine($"error: {InputErrors.Describe(e)}");
            return 1;
        }
    }

    /// <summary>The samples' options that name an existing input file or folder.</summary>
    private static readonly string[] InputPathOptions = ["checkpoint", "data", "vocab"];

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public int GetInt(string name, int fallback) =>
        _values.TryGetValue(name, out var text)
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new ArgumentException($"Option '--{name}' expects a non-negative whole number, got '{text}'.")
            : fallback;

    /// <summary>An existing file or folder given with <c>--name</c>, as a full path; null when not given.</summary>
    public string? GetExistingPath(string name)
    {
        var path = Get(name);
        if (path is null) return null;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full)) throw new ArgumentException($"Option '--{name}': '{path}' does not exist.");
        return full;
    }
}

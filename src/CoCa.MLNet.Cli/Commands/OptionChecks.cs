using System.CommandLine;
using System.Globalization;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// Checks of option values at parse time, before any work, in the words the user typed: <c>--epochs must be at least 1
/// (got 0)</c>, not the library's option-property names. Also the checks of output paths, run before featurizing.
/// </summary>
internal static class OptionChecks
{
    public static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < min) r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at least {min} (got {v})."));
        });
        return option;
    }

    public static Option<int?> AtLeast(this Option<int?> option, int min)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && v < min) r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at least {min} (got {v})."));
        });
        return option;
    }

    public static Option<double> Positive(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0) || !double.IsFinite(v)) r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a positive number (got {v})."));
        });
        return option;
    }

    /// <summary>A share: at least 0 and below 1.</summary>
    public static Option<double> Fraction(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v < 1)) r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at least 0 and below 1 (got {v})."));
        });
        return option;
    }

    /// <summary>
    /// Refuses, before any work, an output file path (<paramref name="flag"/>'s value) that is a folder or whose folder
    /// cannot be created or written to. The folder is created when missing.
    /// </summary>
    public static void CheckOutputFile(string path, string flag, string example)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new ArgumentException($"{flag} '{path}' is a folder; expected the path of the file to write (for example {Path.Combine(path, example)}).");
        string folder = Path.GetDirectoryName(full)!;
        try
        {
            Directory.CreateDirectory(folder);
            // The file itself is written beside its final name and then renamed: the folder must take new files.
            File.Create(Path.Combine(folder, $".coca-write-check-{Guid.NewGuid():N}"), 1, FileOptions.DeleteOnClose).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException($"{flag} '{path}' cannot be written: folder '{folder}' does not take new files ({e.Message}).", e);
        }
        if (File.Exists(full) && File.GetAttributes(full).HasFlag(FileAttributes.ReadOnly))
            throw new UnauthorizedAccessException($"{flag} '{path}' is a read-only file; remove it or choose another path.");
    }
}

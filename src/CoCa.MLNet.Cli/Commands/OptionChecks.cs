using System.CommandLine;
using System.Globalization;
using CoCa.MLNet.Runtime;

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

    /// <summary>
    /// <c>--device cpu|cuda|cuda:N</c>, the same names as the library's <c>Device</c> options, checked at parse time by the
    /// library's one parser (<see cref="ComputeDevice"/>).
    /// </summary>
    public static Option<string> Device(string needs)
    {
        var option = new Option<string>("--device") { Description = $"cpu, cuda or cuda:N ({needs})", DefaultValueFactory = _ => "cpu" };
        option.Validators.Add(r =>
        {
            try { ComputeDevice.Parse(r.GetValueOrDefault<string>()); }
            catch (ArgumentException e) { r.AddError(e.Message); }
        });
        return option;
    }

    /// <summary>The old spelling <c>--gpu N</c> of <c>--device cuda:N</c>, kept working but hidden from help.</summary>
    public static Option<int?> LegacyGpu() =>
        new Option<int?>("--gpu") { Description = "Deprecated: --device cuda:N", Hidden = true }.AtLeast(0);

    /// <summary>The device named by <c>--device</c>, or by the deprecated <c>--gpu N</c> when given.</summary>
    public static string DeviceValue(this ParseResult parse, Option<string> device, Option<int?> legacyGpu) =>
        parse.GetValue(legacyGpu) is int gpu ? ComputeDevice.Cuda(gpu).ToString() : parse.GetValue(device)!;

    public static Option<double> Positive(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0) || !double.IsFinite(v)) r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a positive number (got {v})."));
        });
        return option;
    }

    /// <summary>An optional positive number: when given, checked as <see cref="Positive(Option{double})"/>.</summary>
    public static Option<double?> Positive(this Option<double?> option)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && (!(v > 0) || !double.IsFinite(v)))
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a positive number (got {v})."));
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

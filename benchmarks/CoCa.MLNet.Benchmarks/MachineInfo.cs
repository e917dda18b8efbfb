using System.Runtime.InteropServices;

namespace CoCa.MLNet.Benchmarks;

/// <summary>A one-line description of the machine, for the tables in benchmarks/README.md.</summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();   // the first CPU's block
            string? Field(string name) => lines.FirstOrDefault(l => l.Split(':', 2)[0].Trim() == name)?.Split(':', 2)[1].Trim();
            cpu = Field("model name") ?? cpu;
            // A VM's model name can be as bare as "AMD EPYC": family and model tell its generation (AMD family 25 = Zen 3/4,
            // 26 = Zen 5), which decides its bf16 speed and, through the kernels oneDNN and MKL choose, the summation order.
            if (Field("cpu family") is { } family && Field("model") is { } model) cpu += $" (family {family}, model {model})";
        }
        catch (IOException) { }
        var memGb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{cpu}, {Environment.ProcessorCount} cores, {memGb:F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>Peak resident set size of this process (VmHWM), in MiB.</summary>
    public static double PeakRssMiB() => StatusMiB("VmHWM:");

    /// <summary>Resident set size of this process now (VmRSS), in MiB.</summary>
    public static double RssMiB() => StatusMiB("VmRSS:");

    /// <summary>
    /// Starts a new peak: Linux resets VmHWM to the present RSS when "5" is written to /proc/self/clear_refs, so that
    /// <see cref="PeakRssMiB"/> then reads the peak of what follows (one phase of a step). False where the kernel
    /// refuses (the peak then stays the process's).
    /// </summary>
    public static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static double StatusMiB(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field));
            if (line is not null) return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { }
        return double.NaN;
    }
}

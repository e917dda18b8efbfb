using System.Diagnostics;

namespace CoCa.MLNet.GpuCheck;

/// <summary>What the report says of the machine.</summary>
internal static class Machine
{
    public static string Cpu()
    {
        try { return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU"; }
        catch (IOException) { return "unknown CPU"; }
    }

    public static double MemoryGiB() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);

    /// <summary>nvidia-smi's name, driver, memory and CUDA version of each GPU, or null without nvidia-smi or GPU.</summary>
    public static string? Gpu()
    {
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && text.Length > 0 ? string.Join("; ", text.Split('\n').Select(l => l.Trim())) + " (name, driver, memory, compute capability)" : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}

internal static class Args
{
    public static string String(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static int Int(string[] args, string name, int fallback)
    {
        var text = String(args, name, "");
        if (text.Length == 0) return fallback;
        return int.TryParse(text, out int value) && value > 0 ? value : throw new ArgumentException($"{name} '{text}': expected a positive whole number.");
    }

    public static IEnumerable<string> All(string[] args, string name)
    {
        for (int i = 0; i + 1 < args.Length; i++)
            if (args[i] == name) yield return args[i + 1];
    }
}

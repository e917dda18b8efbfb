using System.Runtime.InteropServices;
using System.Text;

namespace CoCa.MLNet.Training.Devices;

/// <summary>
/// Finds out, before TorchSharp touches libtorch, whether libtorch can load, and if not says why in one line: when it
/// cannot, TorchSharp itself prints a multi-kilobyte probe log (to standard output too) and throws a type-initializer
/// error that names neither the missing piece nor the fix. On Linux two things are checked: the C++ runtime this process
/// uses (libstdc++, already loaded by .NET) must provide <see cref="RequiredGlibcxx"/>, which TorchSharp 0.107's
/// <c>libLibTorchSharp.so</c> needs (GCC 13's libstdc++; Debian 12 has 3.4.30); and <c>libLibTorchSharp.so</c>, where it
/// lies beside the application, must load (the dynamic loader's one-line reason otherwise). Elsewhere, and where the
/// native library is not beside the application (TorchSharp then looks in the NuGet cache), TorchSharp decides.
/// </summary>
internal static class LibTorchLoadCheck
{
    internal const string RequiredGlibcxx = "GLIBCXX_3.4.32";
    private const string NativeLibraryFile = "libLibTorchSharp.so";
    private const string Fix = "run through ./dotnetw (it runs dotnet in a Debian 13 root), or on a distribution whose libstdc++ comes from GCC 13 or newer (Debian 13, Ubuntu 24.04)";

    // Checked once per process: a library that loaded stays loaded, one that could not will not.
    private static readonly Lazy<string?> Problem = new(FindProblem, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <exception cref="PlatformNotSupportedException">libtorch cannot load here; the message says why and what to do.</exception>
    public static void EnsureLoadable()
    {
        if (Problem.Value is { } problem) throw new PlatformNotSupportedException(problem);
    }

    private static string? FindProblem()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            if (LoadedLibstdcxx() is { } libstdcxx && !FileContains(libstdcxx, Encoding.ASCII.GetBytes(RequiredGlibcxx)))
                return $"libtorch cannot load: this system's C++ runtime {libstdcxx} lacks {RequiredGlibcxx}, which TorchSharp's native library needs; {Fix}.";
            if (NativeLibraryBesideApplication() is { } native && !NativeLibrary.TryLoad(native, out _))
            {
                var reason = LoaderError(native);
                return $"libtorch cannot load: {reason}" + (reason.Contains("GLIBCXX_", StringComparison.Ordinal) ? $"; {Fix}." : ".");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing could be read to decide: TorchSharp's own loading will tell.
        }
        return null;
    }

    /// <summary>The libstdc++ mapped into this process (the .NET runtime itself links it), loading it if needed.</summary>
    internal static string? LoadedLibstdcxx()
    {
        if (MappedLibstdcxx() is { } mapped) return mapped;
        return NativeLibrary.TryLoad("libstdc++.so.6", out _) ? MappedLibstdcxx() : null;
    }

    private static string? MappedLibstdcxx()
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            var path = line[slash..];
            if (Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal)) return path;
        }
        return null;
    }

    private static bool FileContains(string path, byte[] needle)
    {
        var bytes = File.ReadAllBytes(path);   // a few MB, read once per process
        return bytes.AsSpan().IndexOf(needle) >= 0;
    }

    /// <summary>Where an application built with the libtorch-cpu package has TorchSharp's native library.</summary>
    private static string? NativeLibraryBesideApplication()
    {
        var folders = new[] { Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location), AppContext.BaseDirectory };
        foreach (var folder in folders.Where(f => !string.IsNullOrEmpty(f)).Distinct())
        {
            foreach (var candidate in new[] { Path.Combine(folder!, "runtimes", "linux-x64", "native", NativeLibraryFile), Path.Combine(folder!, NativeLibraryFile) })
                if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The dynamic loader's own reason (its last line: "…: version `GLIBCXX_3.4.32' not found (required by …)").</summary>
    private static string LoaderError(string path)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return $"{path} loads only on a second try";
        }
        catch (DllNotFoundException e)
        {
            return e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? e.Message;
        }
    }
}

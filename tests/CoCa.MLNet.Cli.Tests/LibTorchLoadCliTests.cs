using System.Text;
using CoCa.MLNet.Training.Devices;

namespace CoCa.MLNet.Cli.Tests;

/// <summary>
/// A TorchSharp command where libtorch cannot load (a libstdc++ older than GCC 13's, as Debian 12's outside
/// <c>./dotnetw</c>) says so in one line, instead of TorchSharp's multi-kilobyte probe log.
/// </summary>
public sealed class LibTorchLoadCliTests : IDisposable
{
    private const string Needed = "GLIBCXX_3.4.32";
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-libtorch-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LibstdcxxFact]
    public void Finetune_WhereLibstdcxxLacksGlibcxx3432_SaysWhatIsMissingAndTheFix_InOneLine()
    {
        var csv = TinyPairs.WriteCsv(_dir, classes: 2, perClass: 2);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        string[] args = ["finetune", "--checkpoint", scratch, "--data", csv, "--out", Path.Combine(_dir, "out"), "--vocab", Fixtures.ClipBpe];
        var libstdcxx = LibTorchLoadCheck.LoadedLibstdcxx()!;

        // Inside ./dotnetw's Debian 13 root this process's libstdc++ has the version: give coca a copy of it whose
        // GLIBCXX_3.4.32 is renamed away, so that the dynamic loader refuses libLibTorchSharp.so exactly as on Debian 12.
        // On such a host itself (outside ./dotnetw), run coca as it is.
        var run = Contains(libstdcxx, Needed)
            ? CliProcess.RunUnder(["env", $"LD_LIBRARY_PATH={OldLibstdcxxFolder(libstdcxx)}"], args)
            : CliProcess.Run(args);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.StdOut);   // TorchSharp's probe log printed itself here
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: libtorch cannot load: ", line);
        Assert.Contains(Needed, line);
        Assert.Contains("./dotnetw", line);
        Assert.Contains("GCC 13", line);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")), "the output folder was made before libtorch was known to load");
    }

    /// <summary>A folder holding libstdc++.so.6: <paramref name="libstdcxx"/> without the version TorchSharp needs.</summary>
    private string OldLibstdcxxFolder(string libstdcxx)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "old-libstdc++")).FullName;
        var bytes = File.ReadAllBytes(libstdcxx);
        var from = Encoding.ASCII.GetBytes(Needed);
        var to = Encoding.ASCII.GetBytes("GLIBCXX_3.4.3X");   // same length: the ELF layout is unchanged
        for (int i = bytes.AsSpan().IndexOf(from); i >= 0; i = bytes.AsSpan().IndexOf(from))
            to.CopyTo(bytes, i);
        File.WriteAllBytes(Path.Combine(folder, "libstdc++.so.6"), bytes);
        return folder;
    }

    private static bool Contains(string path, string text) => File.ReadAllBytes(path).AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;
}

/// <summary>A fact that needs Linux and the libstdc++ this process runs with (to run coca with it, or an older copy of it).</summary>
public sealed class LibstdcxxFactAttribute : FactAttribute
{
    public LibstdcxxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "libstdc++ and GLIBCXX versions are Linux's";
        else if (LibTorchLoadCheck.LoadedLibstdcxx() is null) Skip = "this process has no libstdc++ (/proc/self/maps)";
    }
}

using System.Security.Cryptography;
using System.Text;

namespace CoCa.MLNet.Demo;

/// <summary>
/// <see cref="TinyCoCa.Get"/>'s on-disk cache: one folder per recipe, named by a hash of its key, made once across
/// processes. An inter-process file lock lets one process make it while the others wait; it is made in a temporary
/// folder and renamed into place, and counts as complete only once <c>open</c> can read it, so a killed run leaves
/// nothing that is trusted (the next run deletes its leftovers). What a model is and how it is trained stays in
/// <see cref="TinyCoCa"/>.
/// </summary>
internal static class TinyCoCaCache
{
    /// <summary>The default cache folder: <c>COCA_MLNET_CACHE</c>, else <c>$XDG_CACHE_HOME/coca-mlnet</c>, else <c>~/.cache/coca-mlnet</c>.</summary>
    public static string DefaultFolder() =>
        Environment.GetEnvironmentVariable("COCA_MLNET_CACHE") is { Length: > 0 } explicitFolder ? explicitFolder
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "coca-mlnet");

    /// <summary>
    /// The model cached under <paramref name="key"/> in <paramref name="cacheFolder"/>, made first if it is not there:
    /// <paramref name="train"/> into a temporary folder (returns the training seconds), which is then renamed into place
    /// and finished there by <paramref name="complete"/>, which must write what <paramref name="open"/> reads last.
    /// </summary>
    public static TinyCoCaModel GetOrMake(string cacheFolder, string key, Func<string, TinyCoCaModel?> open,
        Func<string, double> train, Func<string, double, TinyCoCaModel> complete, Action<string>? log)
    {
        cacheFolder = Path.GetFullPath(cacheFolder);
        Directory.CreateDirectory(cacheFolder);
        var name = "tiny-coca-" + Hash(key);
        var final = Path.Combine(cacheFolder, name);
        if (open(final) is { } ready) return ready;

        using (AcquireLock(Path.Combine(cacheFolder, name + ".lock"), log))
        {
            if (open(final) is { } madeMeanwhile) return madeMeanwhile;
            foreach (var stale in Directory.GetDirectories(cacheFolder, name + ".partial-*")) Directory.Delete(stale, recursive: true);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);   // incomplete (no manifest): not ours to trust

            var partial = Path.Combine(cacheFolder, $"{name}.partial-{Environment.ProcessId}");
            log?.Invoke($"training the tiny CoCa once into the cache ({final})");
            double seconds = train(partial);
            Directory.Move(partial, final);
            // Completed after the move, so the ONNX manifest names the folder's final path; the cache's manifest
            // (tiny-coca.json) comes last, so a run killed while converting leaves a folder the next run deletes.
            var cached = complete(final, seconds);
            log?.Invoke($"cached: {final}");
            return cached;
        }
    }

    private static string Hash(string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant();

    // An exclusive lock on a file (flock on Linux/macOS, a share lock on Windows), held until disposed; other processes wait.
    private static FileStream AcquireLock(string path, Action<string>? log)
    {
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (!told) { log?.Invoke($"another process is training the tiny CoCa; waiting for it ({path})"); told = true; }
                Thread.Sleep(500);
            }
        }
    }
}

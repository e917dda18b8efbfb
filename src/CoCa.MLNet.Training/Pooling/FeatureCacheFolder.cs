using CoCa.MLNet.IO;
using CoCa.MLNet.Transforms;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Keeps a feature cache folder within its size limit. Every changed dataset or encoder leaves one more cache file, so
/// after a Fit publishes or reuses its file, the least recently used other files go until the folder fits the limit
/// (the file in use always stays), and one line says what the folder holds: its growth is seen, and can be bounded.
/// "Used" is the file's write time, renewed on every reuse (access times are not kept on many file systems).
/// </summary>
internal static class FeatureCacheFolder
{
    private const string CachePattern = "coca-features-*.f16";

    /// <summary>
    /// Marks <paramref name="inUse"/> used, removes the least recently used other cache files while the folder is over
    /// <paramref name="limitBytes"/> (null: no limit) and reports the folder's size.
    /// </summary>
    public static void Tidy(string directory, string inUse, long? limitBytes, IChannel ch)
    {
        try
        {
            File.SetLastWriteTimeUtc(inUse, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache (shared, or on a read-only mount) is still read; it just keeps its old age.
        }
        var inUseFull = Path.GetFullPath(inUse);
        var files = new DirectoryInfo(directory).GetFiles(CachePattern).OrderBy(f => f.LastWriteTimeUtc).ToList();
        long total = files.Sum(f => f.Length);
        int removed = 0, held = 0;
        long freed = 0;
        if (limitBytes is { } limit)
        {
            foreach (var file in files)
            {
                if (total <= limit) break;
                if (string.Equals(file.FullName, inUseFull, StringComparison.Ordinal)) continue;
                long length = file.Length;   // read before deleting: a deleted FileInfo no longer has one
                try
                {
                    file.Delete();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    held++;   // another run holds it open (Windows) or it is not ours to delete: it stays and counts
                    continue;
                }
                total -= length;
                freed += length;
                removed++;
            }
        }
        int left = files.Count - removed;
        var message = $"Feature cache '{directory}': {left} file{(left == 1 ? "" : "s")}, {ByteSize.Format(total)}";
        if (limitBytes is { } max)
        {
            message += $" (limit {ByteSize.Format(max)})";
            if (removed > 0) message += $"; removed the {removed} least recently used ({ByteSize.Format(freed)})";
            if (total > max)
                message += $"; still over it: the file in use ({ByteSize.Format(new FileInfo(inUseFull).Length)}) is kept" + (held > 0 ? $" and {held} could not be removed" : "");
        }
        CatalogEnvironment.Info(ch, message + ".");
    }
}

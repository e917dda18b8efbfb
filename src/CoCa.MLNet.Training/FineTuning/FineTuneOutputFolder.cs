using Microsoft.Win32.SafeHandles;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The output folder of one fine-tuning run, held for the run's length: a lock file opened exclusively
/// (<see cref="FileShare.None"/>: a lock other processes see) keeps a second run out, so while it is held no other
/// process writes here, and what a killed run left half-written (<c>checkpoints/.epoch_N.*.tmp</c>, a save in progress)
/// is removed on opening. Epoch checkpoints are written to such a temporary folder and renamed when complete.
/// </summary>
internal sealed class FineTuneOutputFolder : IDisposable
{
    internal const string LockFileName = ".coca-finetune.lock";
    internal const string CheckpointsFolder = "checkpoints";
    internal const string StateFile = "trainer_state.json";
    private const string EpochPrefix = "epoch_";

    private readonly SafeFileHandle _lock;
    private readonly string _lockPath;

    private FineTuneOutputFolder(string path, SafeFileHandle lockHandle, string lockPath)
    {
        FullPath = path;
        _lock = lockHandle;
        _lockPath = lockPath;
    }

    public string FullPath { get; }

    public string CheckpointsPath => Path.Combine(FullPath, CheckpointsFolder);

    /// <summary>Creates and locks <paramref name="path"/>, then removes the leftovers of killed saves (reported to <paramref name="log"/>).</summary>
    /// <exception cref="IOException">Another run holds the folder.</exception>
    public static FineTuneOutputFolder Open(string path, IProgress<string>? log)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new IOException($"Output folder '{full}' is a file; expected a folder for the model and its checkpoints.");
        Directory.CreateDirectory(full);
        var lockPath = Path.Combine(full, LockFileName);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"Output folder '{full}' is in use by another fine-tuning run (it holds {LockFileName}); wait for that run to end, or choose another folder.", e);
        }
        var folder = new FineTuneOutputFolder(full, handle, lockPath);
        folder.RemoveAbandonedSaves(log);
        return folder;
    }

    /// <summary>Up to <paramref name="count"/> files an earlier run left here (anything but the lock), relative to the folder.</summary>
    public IReadOnlyList<string> EarlierRunFiles(int count = 3) =>
        Directory.EnumerateFiles(FullPath, "*", SearchOption.AllDirectories)
            .Where(f => !string.Equals(f, _lockPath, StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(FullPath, f))
            .Order(StringComparer.Ordinal)
            .Take(count)
            .ToList();

    /// <summary>
    /// Deletes everything in the folder but the lock. Refused when one of <paramref name="inputs"/> (files or folders the
    /// run reads: the starting checkpoint, the vocabulary, the images) lies inside it: emptying would destroy them.
    /// </summary>
    public void Empty(IEnumerable<string> inputs)
    {
        var prefix = FullPath.EndsWith(Path.DirectorySeparatorChar) ? FullPath : FullPath + Path.DirectorySeparatorChar;
        foreach (var input in inputs)
        {
            var full = Path.GetFullPath(input);
            if (string.Equals(full, FullPath, StringComparison.Ordinal) || full.StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidOperationException($"Cannot empty output folder '{FullPath}': it holds '{full}', an input of this run. Choose another output folder.");
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(FullPath).ToList())
        {
            if (string.Equals(entry, _lockPath, StringComparison.Ordinal)) continue;
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }

    /// <summary>The highest-numbered complete epoch checkpoint (one with its state file), or null.</summary>
    public (string Folder, int Epoch)? LatestCheckpoint() => LatestCheckpoint(FullPath);

    internal static (string Folder, int Epoch)? LatestCheckpoint(string output)
    {
        var root = Path.Combine(output, CheckpointsFolder);
        if (!Directory.Exists(root)) return null;
        (string, int)? best = null;
        foreach (var dir in Directory.EnumerateDirectories(root, EpochPrefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)[EpochPrefix.Length..], out int epoch)) continue;
            if (!File.Exists(Path.Combine(dir, StateFile))) continue;
            if (best is null || epoch > best.Value.Item2) best = (dir, epoch);
        }
        return best;
    }

    /// <summary>
    /// Writes epoch <paramref name="epoch"/>'s checkpoint through <paramref name="write"/> into a temporary folder, then
    /// renames it to <c>checkpoints/epoch_N</c> (replacing one of that number): the state file appears with a complete
    /// checkpoint or not at all. A failed save leaves nothing behind.
    /// </summary>
    public string SaveCheckpoint(int epoch, Action<string> write)
    {
        var folder = Path.Combine(CheckpointsPath, EpochPrefix + epoch);
        var temp = Path.Combine(CheckpointsPath, $".{EpochPrefix}{epoch}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temp, folder);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { /* the save's own failure matters more */ }
            throw;
        }
        return folder;
    }

    /// <summary>The temporary folders of saves whose run was killed: no run writes here while this one holds the lock.</summary>
    private void RemoveAbandonedSaves(IProgress<string>? log)
    {
        if (!Directory.Exists(CheckpointsPath)) return;
        foreach (var temp in Directory.EnumerateDirectories(CheckpointsPath, $".{EpochPrefix}*.tmp").ToList())
        {
            Directory.Delete(temp, recursive: true);
            log?.Report($"Removed '{temp}', an epoch checkpoint whose save was interrupted.");
        }
    }

    public void Dispose()
    {
        // Deleted while still held, so no other run can take the lock before it is gone.
        try { File.Delete(_lockPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _lock.Dispose();
    }
}

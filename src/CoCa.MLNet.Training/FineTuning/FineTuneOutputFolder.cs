using Microsoft.Win32.SafeHandles;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The output folder of one fine-tuning run, held for the run's length: a lock file opened exclusively
/// (<see cref="FileShare.None"/>: a lock other processes see) keeps a second run out, so while it is held no other
/// process writes here, and what a killed run left half-written (an epoch checkpoint's save in progress, see
/// <see cref="EpochCheckpointStore"/>) is removed on opening.
/// </summary>
internal sealed class FineTuneOutputFolder : IDisposable
{
    internal const string LockFileName = ".coca-finetune.lock";

    private readonly SafeFileHandle _lock;
    private readonly string _lockPath;

    private FineTuneOutputFolder(string path, SafeFileHandle lockHandle, string lockPath)
    {
        FullPath = path;
        Checkpoints = new EpochCheckpointStore(path);
        _lock = lockHandle;
        _lockPath = lockPath;
    }

    public string FullPath { get; }

    /// <summary>The run's epoch checkpoints (<c>checkpoints/epoch_N</c>).</summary>
    public EpochCheckpointStore Checkpoints { get; }

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
        folder.Checkpoints.RemoveAbandonedSaves(log);
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

    /// <summary>
    /// Copies the vocabulary into the folder (and, for a .json vocabulary, the merges.txt beside it), so the model saved
    /// here carries the tokenizer it was trained with.
    /// </summary>
    public void CopyVocabulary(string vocabularyPath)
    {
        var source = Path.GetFullPath(vocabularyPath);
        var target = Path.Combine(FullPath, Path.GetFileName(source));
        if (!string.Equals(source, target, StringComparison.Ordinal)) File.Copy(source, target, overwrite: true);
        var merges = Path.Combine(Path.GetDirectoryName(source)!, "merges.txt");
        if (Path.GetFileName(source).EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(merges))
            File.Copy(merges, Path.Combine(FullPath, "merges.txt"), overwrite: true);
    }

    public void Dispose()
    {
        // Deleted while still held, so no other run can take the lock before it is gone.
        try { File.Delete(_lockPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _lock.Dispose();
    }
}

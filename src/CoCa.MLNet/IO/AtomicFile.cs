namespace CoCa.MLNet.IO;

/// <summary>
/// Writes a file so that its final name never holds a half-written one: the bytes go to a temporary file beside it,
/// <c>.NAME.GUID.tmp</c> (the same folder, so the rename is atomic), and <see cref="Commit"/> renames it over the final
/// name. Disposed without <see cref="Commit"/> (an exception, a bad input), the temporary file is deleted and a file
/// already at the final name is left untouched. The temporary file is held open exclusively while it is written
/// (<see cref="FileShare.None"/>: a lock other processes see, released by the OS when a process dies), which is how
/// <see cref="RemoveAbandoned"/> tells the leftovers of a killed run from a file a live run is writing. Every new
/// write to a name first removes the temporary files that killed writes to that name left (those no process holds),
/// so a killed run's leftovers last only until the next write of the same file, whichever command makes it; a process
/// that is interrupted (Ctrl+C) removes its own with <see cref="AbandonAllInProcess"/>.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    /// <summary>The writes under way in this process, for <see cref="AbandonAllInProcess"/>.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<AtomicFile, byte> UnderWay = new();

    private readonly object _gate = new();
    private FileStream? _stream;

    public AtomicFile(string path, int bufferSize = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(path);
        FinalPath = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(FinalPath)!;
        Directory.CreateDirectory(folder);
        RemoveAbandoned(folder, TemporaryPattern(System.IO.Path.GetFileName(FinalPath)));
        TemporaryPath = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(FinalPath)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(TemporaryPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize);
        UnderWay[this] = 0;
    }

    /// <summary>The file's final name (full path).</summary>
    public string FinalPath { get; }

    /// <summary>Where the bytes are written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>The temporary file, open for writing (and reading back).</summary>
    public FileStream Stream => _stream ?? throw new ObjectDisposedException(nameof(AtomicFile), $"'{FinalPath}' is already committed or abandoned.");

    /// <summary>Closes the temporary file and renames it to <see cref="FinalPath"/>, replacing a file there.</summary>
    public void Commit(bool flushToDisk = false)
    {
        lock (_gate)
        {
            var stream = Stream;
            stream.Flush(flushToDisk);
            stream.Dispose();
            _stream = null;
            File.Move(TemporaryPath, FinalPath, overwrite: true);
            UnderWay.TryRemove(this, out _);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stream is null) return;
            UnderWay.TryRemove(this, out _);
            try { _stream.Dispose(); }
            catch (IOException) { /* a flush that fails: the file is being thrown away */ }
            _stream = null;
            try { File.Delete(TemporaryPath); }
            catch (IOException) { /* best effort: the failure that got us here matters more; the next run removes it */ }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Abandons every write under way in this process (closes and deletes its temporary file; the final names keep what
    /// they held), for a process about to end before its writes are done (Ctrl+C, SIGTERM): otherwise their temporary
    /// files would stay until a later write of the same names. A write racing this fails (its stream is closed); one
    /// committing finishes first. Returns the final names whose writes were abandoned.
    /// </summary>
    public static IReadOnlyList<string> AbandonAllInProcess()
    {
        var abandoned = new List<string>();
        foreach (var file in UnderWay.Keys)
        {
            file.Dispose();
            abandoned.Add(file.FinalPath);
        }
        return abandoned;
    }

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write, bool flushToDisk = false)
    {
        using var file = new AtomicFile(path);
        write(file.Stream);
        file.Commit(flushToDisk);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="path"/>, atomically (a reader never sees half a file).</summary>
    public static void Copy(string source, string path) =>
        Write(path, s => { using var from = File.OpenRead(source); from.CopyTo(s); });

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte order mark) to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, Utf8, leaveOpen: true); w.Write(text); });

    /// <summary>Writes one line per item (UTF-8, '\n' endings) to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, Utf8, leaveOpen: true) { NewLine = "\n" };
            foreach (var line in lines) w.WriteLine(line);
        });

    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The pattern of the temporary files of writes to files named <paramref name="fileNamePattern"/> (e.g. <c>part-*</c>).</summary>
    public static string TemporaryPattern(string fileNamePattern) => $".{fileNamePattern}.*.tmp";

    /// <summary>
    /// Deletes the files matching <paramref name="searchPattern"/> in <paramref name="folder"/> that no process holds
    /// open: the leftovers of killed runs (a live run holds its temporary file exclusively, so it is left alone).
    /// Returns how many were deleted.
    /// </summary>
    public static int RemoveAbandoned(string folder, string searchPattern)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder, searchPattern))
        {
            try
            {
                // Opening it exclusively fails while another process (or another handle here) holds it.
                using (File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
                // In use by a live run (or gone already): leave it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return removed;
    }
}

using System.Runtime.ExceptionServices;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Samples;

/// <summary>
/// A walkthrough's inputs checked up front, before minutes of featurizing and training: each image is decoded once as
/// the featurizers decode it (<see cref="ImageFiles.EnsureReadable"/>), each video probed. A corrupt, truncated, empty or
/// missing file then fails here, as one line naming it and what was expected (one line per bad file, all of them at
/// once), and not later inside an ML.NET pipeline, where a notebook's kernel shows the whole stack trace. Read the folder
/// and check it inside <see cref="NotebookSettings.Check{T}"/> so that the line also names the setting.
/// </summary>
public static class InputFiles
{
    /// <summary>At most this many bad files are listed; the count says how many more there are.</summary>
    private const int MaxListed = 20;

    /// <summary><paramref name="paths"/>, once every image among them decodes; otherwise why not, one line per bad image.</summary>
    public static List<string> CheckImages(List<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        Check(paths, "images", ImageFiles.EnsureReadable);
        return paths;
    }

    /// <summary><paramref name="examples"/> (<see cref="ClassFolders.Read"/>), once every image among them decodes.</summary>
    public static List<LabelledInput> CheckImages(List<LabelledInput> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        Check(examples.Select(e => e.Path).ToList(), "images", ImageFiles.EnsureReadable);
        return examples;
    }

    /// <summary>
    /// <paramref name="examples"/> (<see cref="ClassFolders.Read"/> with videos), once every video among them opens as a
    /// video (<see cref="VideoReader.Probe"/>: ffprobe reads its stream and frame count; a folder of frame images is listed).
    /// </summary>
    public static List<LabelledInput> CheckVideos(List<LabelledInput> examples, VideoReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var reader = new VideoReader(options);
        Check(examples.Select(e => e.Path).ToList(), "videos", path => reader.Probe(path));
        return examples;
    }

    /// <summary>
    /// Runs <paramref name="read"/> on every path, in parallel. Input errors are collected: one is rethrown as it is, several
    /// become one <see cref="InvalidDataException"/> listing them, a line each (no inner exception: <see
    /// cref="InputErrors.Describe"/> would show the innermost alone). Any other exception (a bug) passes unchanged.
    /// </summary>
    private static void Check(List<string> paths, string what, Action<string> read)
    {
        var errors = new Exception?[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try { read(paths[i]); }
            catch (Exception e) when (IsUnreadable(e)) { errors[i] = e; }
        });
        var bad = errors.OfType<Exception>().ToList();
        if (bad.Count == 1) ExceptionDispatchInfo.Throw(bad[0]);
        if (bad.Count > 1)
            throw new InvalidDataException(
                $"{bad.Count} of {paths.Count} {what} cannot be read:\n" +
                string.Join("\n", bad.Take(MaxListed).Select(e => e.Message.ReplaceLineEndings(" "))) +
                (bad.Count > MaxListed ? $"\n… and {bad.Count - MaxListed} more." : ""));
    }

    /// <summary>What an unreadable input throws (the library's messages name the file), as opposed to a bug.</summary>
    private static bool IsUnreadable(Exception e) =>
        e is IOException or InvalidDataException or UnauthorizedAccessException or VideoDecodingException or ImageTooLargeException;
}

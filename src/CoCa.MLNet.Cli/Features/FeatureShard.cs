using CoCa.MLNet.IO;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CoCa.MLNet.Cli.Features;

/// <summary>
/// Where a feature file's rows sit in the whole input list of its featurize run, kept in the file's Parquet metadata so
/// that a folder of shards can be checked complete and disjoint before training: shard <see cref="Index"/> of
/// <see cref="Count"/> holds inputs [<see cref="FirstInput"/>, <see cref="EndInput"/>) of <see cref="TotalInputs"/>, and
/// <see cref="InputListHash"/> (of the whole list: paths and labels, in order) tells shards of different runs apart.
/// A file may hold fewer rows than <see cref="Inputs"/>: inputs that could not be read are left out (featurize names
/// them and exits 1). An unsharded file is shard 0 of 1.
/// </summary>
internal sealed record FeatureShard(int Index, int Count, long FirstInput, long Inputs, long TotalInputs, string InputListHash)
{
    public const string ShardKey = "coca.shard", InputsKey = "coca.shard_inputs", InputListKey = "coca.input_list_sha256";

    public long EndInput => FirstInput + Inputs;

    /// <summary>"inputs 100..199" (or "no inputs"), for messages.</summary>
    public string InputRange => Inputs == 0 ? $"no inputs (at {FirstInput})" : $"inputs {FirstInput}..{EndInput - 1}";

    public void WriteTo(IDictionary<string, string> metadata)
    {
        metadata[ShardKey] = string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
        metadata[InputsKey] = string.Create(CultureInfo.InvariantCulture, $"{FirstInput},{Inputs},{TotalInputs}");
        metadata[InputListKey] = InputListHash;
    }

    /// <summary>The shard facts of a file's metadata; null when it has none (written before they were kept).</summary>
    public static FeatureShard? ReadFrom(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(ShardKey, out var shard)) return null;
        var ids = shard.Split('/');
        var inputs = metadata.GetValueOrDefault(InputsKey)?.Split(',') ?? [];
        if (ids.Length != 2 || inputs.Length != 3 || !metadata.TryGetValue(InputListKey, out var hash)
            || !int.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(ids[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            || !long.TryParse(inputs[0], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(inputs[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            || !long.TryParse(inputs[2], NumberStyles.None, CultureInfo.InvariantCulture, out long total)
            || count < 1 || index >= count || first + length > total)
            throw new InvalidDataException($"'{path}' has unreadable shard metadata ({ShardKey}='{shard}', {InputsKey}='{metadata.GetValueOrDefault(InputsKey)}'); featurize it again.");
        return new FeatureShard(index, count, first, length, total, hash);
    }

    /// <summary>SHA-256 of the whole input list (paths and labels, in order): equal lists, equal hashes.</summary>
    public static string HashInputs(IReadOnlyList<string> paths, IReadOnlyList<string?>? labels)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < paths.Count; i++)
        {
            // Lengths first: no two lists give the same byte stream.
            Append(sha, paths[i]);
            Append(sha, labels?[i]);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// SHA-256 of what <paramref name="paths"/> hold now, in order (<see cref="ContentsHasher"/>). A finished shard whose
    /// inputs no longer hash to the value it was written with is featurized again: a file changed, or swapped, under
    /// the same name is never served from the older shard. Reading the bytes costs far less than decoding and encoding them.
    /// </summary>
    public static string HashContents(IEnumerable<string> paths)
    {
        using var hasher = new ContentsHasher();
        foreach (var path in paths) hasher.Add(path);
        return hasher.Finish();
    }

    /// <summary>
    /// <see cref="HashContents"/> input by input, so that a run hashes each batch just before it reads it (a file
    /// changed after that makes the next run's hash differ): each file's bytes, or the names and bytes of the files
    /// directly inside a folder (a video as frame images).
    /// </summary>
    internal sealed class ContentsHasher : IDisposable
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _buffer = new byte[1 << 16];

        public void Add(string path)
        {
            Append(_sha, path);
            try
            {
                if (File.Exists(path))
                {
                    Append(_sha, "file");
                    AddFile(path);
                }
                else if (Directory.Exists(path))
                {
                    var files = Directory.GetFiles(path);
                    Array.Sort(files, StringComparer.Ordinal);
                    Append(_sha, "folder");
                    foreach (var file in files)
                    {
                        Append(_sha, Path.GetFileName(file));
                        AddFile(file);
                    }
                }
                else Append(_sha, "none");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Append(_sha, "unreadable");   // the run names it; the hash only has to differ from a readable file's
            }
        }

        private void AddFile(string file)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            Append(_sha, stream.Length.ToString(CultureInfo.InvariantCulture));
            int n;
            while ((n = stream.Read(_buffer, 0, _buffer.Length)) > 0) _sha.AppendData(_buffer, 0, n);
        }

        public string Finish() => Convert.ToHexStringLower(_sha.GetHashAndReset());

        public void Dispose() => _sha.Dispose();
    }

    private static void Append(IncrementalHash sha, string? text)
    {
        var bytes = text is null ? [] : Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[8];
        BitConverter.TryWriteBytes(length, text is null ? -1L : bytes.Length);
        sha.AppendData(length);
        sha.AppendData(bytes);
    }
}

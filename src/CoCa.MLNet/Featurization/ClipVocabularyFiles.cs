using CoCa.MLNet.Persistence;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// The bytes of the file(s) a <see cref="ClipTokenizer"/> was loaded from (open_clip's <c>bpe_simple_vocab_16e6.txt.gz</c>,
/// or a CLIP <c>vocab.json</c> with its <c>merges.txt</c>), so that a saved model carries its tokenizer and a fresh
/// process needs nothing beside the model file. The project does not ship the vocabulary; the user's file travels.
/// </summary>
internal sealed class ClipVocabularyFiles
{
    private const string Folder = "vocab/";
    private const string MergesFile = "merges.txt";

    private ClipVocabularyFiles(IReadOnlyList<(string Name, byte[] Bytes)> files, string origin)
    {
        Files = files;
        Origin = origin;
    }

    /// <summary>The folder the files came from (the user's, or <c>vocab</c> inside a model package): errors name it.</summary>
    private string Origin { get; }

    /// <summary>The files; the first is the one <see cref="ClipTokenizer.FromFile"/> is given.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> Files { get; }

    public IReadOnlyList<string> Names => Files.Select(f => f.Name).ToList();

    /// <summary>Reads the vocabulary file, and merges.txt beside it when it is a vocab.json.</summary>
    public static ClipVocabularyFiles Read(string vocabPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabPath);
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"CLIP vocabulary file '{vocabPath}' does not exist (expected bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt beside it).", vocabPath);
        var files = new List<(string, byte[])> { (Path.GetFileName(vocabPath), File.ReadAllBytes(vocabPath)) };
        if (vocabPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            var merges = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(vocabPath))!, MergesFile);
            if (File.Exists(merges)) files.Add((MergesFile, File.ReadAllBytes(merges)));
        }
        return new ClipVocabularyFiles(files, Path.GetDirectoryName(Path.GetFullPath(vocabPath))!);
    }

    /// <summary>Builds the tokenizer from the stored bytes (through a temporary folder: the tokenizer reads files).</summary>
    public ClipTokenizer CreateTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("coca-vocab-");
        try
        {
            foreach (var (name, bytes) in Files) File.WriteAllBytes(Path.Combine(dir.FullName, name), bytes);
            return ClipTokenizer.FromFile(Path.Combine(dir.FullName, Files[0].Name));
        }
        catch (Exception e) when (e.Message.Contains(dir.FullName, StringComparison.Ordinal))
        {
            // The user knows their own files (or the model package), not this temporary copy.
            var message = e.Message.Replace(dir.FullName, Origin, StringComparison.Ordinal);
            throw e switch
            {
                FileNotFoundException f => new FileNotFoundException(message, f.FileName?.Replace(dir.FullName, Origin, StringComparison.Ordinal), e),
                ArgumentException => new ArgumentException(message, e),
                _ => new InvalidDataException(message, e),
            };
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public void SaveTo(CoCaPackageWriter writer)
    {
        foreach (var (name, bytes) in Files) writer.WriteBytes(Folder + name, bytes);
    }

    public static ClipVocabularyFiles LoadFrom(CoCaPackageReader reader, IReadOnlyList<string> names)
    {
        if (names.Count == 0)
            throw new InvalidDataException($"Model package '{reader.Source}' lists no tokenizer vocabulary files; it is damaged.");
        foreach (var name in names)
            if (name.Length == 0 || name != Path.GetFileName(name))
                throw new InvalidDataException($"Model package '{reader.Source}' names an invalid vocabulary file '{name}'.");
        return new ClipVocabularyFiles(names.Select(n => (n, reader.ReadBytes(Folder + n))).ToList(), Path.Combine(reader.Source, Folder.TrimEnd('/')));
    }
}

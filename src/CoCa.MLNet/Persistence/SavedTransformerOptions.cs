using System.Text.Json;
using System.Text.Json.Nodes;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Persistence;

/// <summary>
/// The one way a CoCa transformer keeps its settings in a model package: <c>options.json</c> holding its options object
/// (without the local model and vocabulary paths, which the package itself replaces), the model configuration and,
/// for the transformers that tokenize, the names of the vocabulary files stored beside it.
/// </summary>
/// <remarks>
/// Packages saved before this class (image, text and caption transformers wrote their options' fields flat, beside
/// <c>config</c> and <c>vocabulary_files</c>) still load: a file without an <c>options</c> object is read as that flat layout.
/// </remarks>
internal sealed class SavedTransformerOptions<TOptions> where TOptions : class, new()
{
    public const string Entry = "options.json";

    // Paths on the saving machine: meaningless in a package (the loader points them at the package) and private.
    private static readonly string[] LocalPaths = ["model_path", "vocab_path"];

    public TOptions Options { get; set; } = new();
    public CoCaModelConfig Config { get; set; } = new();
    public List<string>? VocabularyFiles { get; set; }

    public static void Write(CoCaPackageWriter writer, TOptions options, CoCaModelConfig config, IEnumerable<string>? vocabularyFiles = null)
    {
        var node = JsonSerializer.SerializeToNode(options, PackageJson.Options)!.AsObject();
        foreach (var path in LocalPaths) node.Remove(path);
        var root = new JsonObject
        {
            ["options"] = node,
            ["config"] = JsonSerializer.SerializeToNode(config, PackageJson.Options),
        };
        if (vocabularyFiles is not null) root["vocabulary_files"] = new JsonArray([.. vocabularyFiles.Select(f => (JsonNode)f)]);
        writer.WriteText(Entry, root.ToJsonString(PackageJson.Options));
    }

    public static SavedTransformerOptions<TOptions> Read(CoCaPackageReader reader)
    {
        var root = JsonNode.Parse(reader.ReadBytes(Entry))?.AsObject()
            ?? throw new InvalidDataException($"Model package '{reader.Source}': {Entry} is empty.");
        var options = root["options"] ?? root;   // before: the options' fields at the top level
        return new SavedTransformerOptions<TOptions>
        {
            Options = options.Deserialize<TOptions>(PackageJson.Options) ?? new TOptions(),
            Config = root["config"]?.Deserialize<CoCaModelConfig>(PackageJson.Options)
                ?? throw new InvalidDataException($"Model package '{reader.Source}': {Entry} has no model configuration."),
            VocabularyFiles = root["vocabulary_files"]?.Deserialize<List<string>>(PackageJson.Options),
        };
    }
}

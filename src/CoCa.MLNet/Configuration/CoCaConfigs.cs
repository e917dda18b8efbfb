using System.Collections.Concurrent;
using System.Reflection;

namespace CoCa.MLNet.Configuration;

/// <summary>
/// open_clip CoCa model configs: the built-ins (<c>coca_ViT-B-32</c>, <c>coca_ViT-L-14</c>, stored as open_clip's own
/// model_config JSON and embedded in this assembly) and user files (<c>open_clip_config.json</c> or a bare model config).
/// Built-ins and user files go through the same parser.
/// </summary>
public static class CoCaConfigs
{
    private const string ResourcePrefix = "CoCa.MLNet.ModelConfigs.";
    private const string ResourceSuffix = ".json";
    private static readonly Assembly ResourceAssembly = typeof(CoCaConfigs).Assembly;
    private static readonly ConcurrentDictionary<string, CoCaModelConfig> Cache = new(StringComparer.Ordinal);

    /// <summary>Names of the built-in configs (open_clip's model names).</summary>
    public static IReadOnlyList<string> Names { get; } = ResourceAssembly.GetManifestResourceNames()
        .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal) && r.EndsWith(ResourceSuffix, StringComparison.Ordinal))
        .Select(r => r[ResourcePrefix.Length..^ResourceSuffix.Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>A built-in config by open_clip model name (case-insensitive, e.g. <c>coca_ViT-B-32</c>).</summary>
    /// <exception cref="ArgumentException">The name is not a built-in; the message lists the known names.</exception>
    public static CoCaModelConfig Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var canonical = Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException(
                $"Unknown CoCa config '{name}'. Known configs: {string.Join(", ", Names)}; or pass an open_clip_config.json / model config JSON file.",
                nameof(name));
        return Cache.GetOrAdd(canonical, LoadBuiltIn);
    }

    /// <summary>True when <paramref name="name"/> names a built-in config.</summary>
    public static bool IsBuiltIn(string name) => Names.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads an open_clip config file: a Hugging Face hub <c>open_clip_config.json</c>
    /// (<c>{"model_cfg": {...}, "preprocess_cfg": {...}}</c>) or a bare open_clip model config JSON.
    /// The config name defaults to the folder name for <c>open_clip_config.json</c>, else the file name without extension.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CoCaConfigException">The JSON is malformed or describes a model CoCa.MLNet cannot run.</exception>
    public static CoCaModelConfig FromOpenClipConfigFile(string path, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"open_clip config file '{full}' does not exist.", full);
        return Parse(File.ReadAllText(full), name ?? DefaultName(full), full);
    }

    /// <summary>Parses open_clip config JSON text (wrapped or bare); <paramref name="source"/> names it in error messages.</summary>
    public static CoCaModelConfig Parse(string json, string name, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(name);
        return OpenClipConfigParser.Parse(json, name, source ?? name);
    }

    private static CoCaModelConfig LoadBuiltIn(string name)
    {
        var resource = ResourcePrefix + name + ResourceSuffix;
        using var stream = ResourceAssembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Built-in config resource '{resource}' is missing from {ResourceAssembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), name, "built-in " + name);
    }

    private static string DefaultName(string fullPath)
    {
        if (string.Equals(Path.GetFileName(fullPath), "open_clip_config.json", StringComparison.OrdinalIgnoreCase))
        {
            var folder = Path.GetFileName(Path.GetDirectoryName(fullPath));
            if (!string.IsNullOrEmpty(folder)) return folder;
        }
        return Path.GetFileNameWithoutExtension(fullPath);
    }
}

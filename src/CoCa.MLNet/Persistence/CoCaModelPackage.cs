using System.IO.Compression;
using System.Reflection;
using CoCa.MLNet.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Persistence;

/// <summary>
/// Saves and loads whole ML.NET models that contain CoCa.MLNet transformers: one file, loadable in a fresh process
/// with nothing else needed. ML.NET's own transformers inside the model are stored with ML.NET's own
/// <c>mlContext.Model.Save</c>; ours with <see cref="ICoCaSavableTransformer"/>.
/// </summary>
internal static class CoCaModelPackage
{
    private const string FormatName = "coca.mlnet.model";
    private const int FormatVersion = 1;

    /// <summary>Saves <paramref name="model"/> (a transformer or a chain) to <paramref name="path"/>, atomically.</summary>
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema? inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        Save(mlContext.Model, model, inputSchema, path);
    }

    /// <summary>Loads a model written by <see cref="Save(MLContext, ITransformer, DataViewSchema?, string)"/>.</summary>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return Load(mlContext.Model, path, out inputSchema);
    }

    internal static void Save(ModelOperationsCatalog models, ITransformer model, DataViewSchema? inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parts = Flatten(model).ToList();
        using var file = new AtomicFile(path);
        using (var zip = new ZipArchive(file.Stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            var manifest = new Manifest { Format = FormatName, Version = FormatVersion };
            for (int i = 0; i < parts.Count; i++)
            {
                var prefix = $"parts/{i:D3}/";
                if (parts[i] is ICoCaSavableTransformer ours)
                {
                    var t = ours.GetType();
                    manifest.Parts.Add(new PartEntry { Kind = "coca", Type = t.FullName!, Assembly = t.Assembly.GetName().Name! });
                    ours.SaveTo(new CoCaPackageWriter(zip, prefix));
                }
                else
                {
                    manifest.Parts.Add(new PartEntry { Kind = "mlnet", Type = parts[i].GetType().FullName! });
                    using var s = zip.CreateEntry(prefix + "mlnet.zip", CompressionLevel.Fastest).Open();
                    using var ms = new MemoryStream();
                    models.Save(parts[i], null, ms);
                    ms.Position = 0;
                    ms.CopyTo(s);
                }
            }
            if (inputSchema is not null && TrySaveSchema(models, inputSchema) is { } schemaBytes)
            {
                manifest.HasInputSchema = true;
                using var s = zip.CreateEntry("input_schema.zip", CompressionLevel.Fastest).Open();
                s.Write(schemaBytes);
            }
            new CoCaPackageWriter(zip, "").WriteJson("manifest.json", manifest);
        }
        file.Commit();
    }

    internal static ITransformer Load(ModelOperationsCatalog models, string path, out DataViewSchema? inputSchema)
    {
        var env = Transforms.CatalogEnvironment.Get(models);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{path}' is not a CoCa.MLNet model package (not a zip file).", e); }
        using (zip)
        {
            var root = new CoCaPackageReader(env, zip, "", path);
            if (!root.Contains("manifest.json"))
                throw new InvalidDataException($"'{path}' is not a CoCa.MLNet model package (no manifest.json). A plain ML.NET model loads with mlContext.Model.Load.");
            var manifest = NamingThePackage(path, "manifest.json", () => root.ReadJson<Manifest>("manifest.json"));
            if (manifest.Format != FormatName || manifest.Version > FormatVersion)
                throw new InvalidDataException($"'{path}' is a '{manifest.Format}' package of version {manifest.Version}; this CoCa.MLNet reads '{FormatName}' up to version {FormatVersion}.");

            var parts = new List<ITransformer>();
            for (int i = 0; i < manifest.Parts.Count; i++)
            {
                var prefix = $"parts/{i:D3}/";
                var entry = manifest.Parts[i];
                parts.Add(NamingThePackage(path, $"part {prefix} ({entry.Type})", () =>
                {
                    if (entry.Kind != "mlnet") return LoadOurs(entry, new CoCaPackageReader(env, zip, prefix, path));
                    using var ms = new MemoryStream(new CoCaPackageReader(env, zip, prefix, path).ReadBytes("mlnet.zip"));
                    return models.Load(ms, out _);
                }));
            }
            DataViewSchema? schema = null;
            if (manifest.HasInputSchema)
                NamingThePackage(path, "its input schema (input_schema.zip)", () =>
                {
                    using var ms = new MemoryStream(root.ReadBytes("input_schema.zip"));
                    return models.Load(ms, out schema);
                });
            inputSchema = schema;
            return parts.Count == 1 ? parts[0] : new TransformerChain<ITransformer>(parts.ToArray());
        }
    }

    /// <summary>
    /// Runs <paramref name="load"/>; a damaged entry's error (a JSON parser's position, ONNX Runtime's protobuf code,
    /// ML.NET's "Failed to open a zip archive") gets the package and the part it came from, unless it names the package already.
    /// A machine that cannot run the part (<see cref="PlatformNotSupportedException"/>: no ONNX Runtime native library) is
    /// not a damaged package: that error passes as it is.
    /// </summary>
    private static T NamingThePackage<T>(string path, string part, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not PlatformNotSupportedException && !e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Model package '{path}' is damaged: {part} cannot be loaded: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>Transformer types that moved namespace: packages saved before the move name the old one.</summary>
    private static readonly Dictionary<string, string> MovedTypes = new(StringComparer.Ordinal)
    {
        ["CoCa.MLNet.Scoring.AttentionalPoolerTransformer"] = "CoCa.MLNet.Pooling.AttentionalPoolerTransformer",
    };

    private static ITransformer LoadAs<T>(CoCaPackageReader reader) where T : ICoCaSavableTransformer => T.LoadFrom(reader);

    private static ITransformer LoadOurs(PartEntry entry, CoCaPackageReader reader)
    {
        Type? type;
        string typeName = MovedTypes.GetValueOrDefault(entry.Type, entry.Type);
        try { type = Assembly.Load(entry.Assembly!).GetType(typeName, throwOnError: false); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException)
        {
            throw new InvalidDataException($"Model package '{reader.Source}' needs assembly '{entry.Assembly}' (for {entry.Type}); reference it from your application.", e);
        }
        if (type is null || !typeof(ICoCaSavableTransformer).IsAssignableFrom(type))
            throw new InvalidDataException($"Model package '{reader.Source}' names transformer type '{entry.Type}' that this CoCa.MLNet does not know.");
        var load = typeof(CoCaModelPackage).GetMethod(nameof(LoadAs), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        try { return (ITransformer)load.Invoke(null, [reader])!; }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>Chains are stored element by element so ours and ML.NET's can sit side by side.</summary>
    private static IEnumerable<ITransformer> Flatten(ITransformer model)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (var t in chain)
                foreach (var inner in Flatten(t))
                    yield return inner;
        }
        else
        {
            yield return model;
        }
    }

    private static byte[]? TrySaveSchema(ModelOperationsCatalog models, DataViewSchema schema)
    {
        // An empty chain saved with the schema keeps ML.NET's own schema serialisation (and its rules: columns of
        // types it cannot serialise, such as MLImage, are not stored).
        try
        {
            using var ms = new MemoryStream();
            models.Save(new TransformerChain<ITransformer>(), schema, ms);
            return ms.ToArray();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private sealed class Manifest
    {
        public string Format { get; set; } = "";
        public int Version { get; set; }
        public bool HasInputSchema { get; set; }
        public List<PartEntry> Parts { get; set; } = [];
    }

    private sealed class PartEntry
    {
        public string Kind { get; set; } = "";
        public string Type { get; set; } = "";
        public string? Assembly { get; set; }
    }
}

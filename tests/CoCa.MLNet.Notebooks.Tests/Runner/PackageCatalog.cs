using System.Reflection;
using System.Text.Json;

namespace CoCa.MLNet.Notebooks.Tests.Runner;

/// <summary>A package a notebook referenced, resolved to the assemblies this test process already has.</summary>
public sealed record ResolvedPackage(string Id, string Version, bool IsRepositoryProject, IReadOnlyList<string> AssemblyNames);

/// <summary>
/// Resolves <c>#r "nuget: Id, Version"</c> the way a user's kernel would (the package and its whole dependency
/// closure), but against this repository's build instead of a feed: the libraries of this test project's
/// <c>.deps.json</c>. Our projects (CoCa.MLNet, CoCa.MLNet.Training) appear there as "project" libraries, everything
/// they bring (Microsoft.ML, TorchSharp, ...) as the package versions the repository pins. A package that is not part
/// of the build fails with a clear message instead of being downloaded.
/// </summary>
public sealed class PackageCatalog
{
    private sealed record Library(string Id, string Version, string Type, string[] Dependencies, string[] RuntimeAssemblies);

    private readonly Dictionary<string, Library> _libraries;

    private PackageCatalog(Dictionary<string, Library> libraries) => _libraries = libraries;

    /// <summary>The catalog of the running test assembly (its .deps.json beside it).</summary>
    public static PackageCatalog ForTestAssembly()
    {
        var assembly = typeof(PackageCatalog).Assembly;
        var deps = Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".deps.json");
        return Load(deps);
    }

    public static PackageCatalog Load(string depsJsonPath)
    {
        if (!File.Exists(depsJsonPath)) throw new FileNotFoundException($"'{depsJsonPath}' not found: the runner resolves packages from the test build's deps.json.", depsJsonPath);
        using var doc = JsonDocument.Parse(File.ReadAllText(depsJsonPath));
        var root = doc.RootElement;
        string target = root.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var types = root.GetProperty("libraries").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("type").GetString() ?? "");
        var libraries = new Dictionary<string, Library>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in root.GetProperty("targets").GetProperty(target).EnumerateObject())
        {
            int slash = entry.Name.IndexOf('/');
            string id = entry.Name[..slash], version = entry.Name[(slash + 1)..];
            string[] dependencies = entry.Value.TryGetProperty("dependencies", out var d) ? d.EnumerateObject().Select(p => p.Name).ToArray() : [];
            string[] runtime = entry.Value.TryGetProperty("runtime", out var r)
                ? r.EnumerateObject().Select(p => p.Name).Where(n => n.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToArray()
                : [];
            libraries[id] = new Library(id, version, types.GetValueOrDefault(entry.Name, ""), dependencies, runtime);
        }
        return new PackageCatalog(libraries);
    }

    /// <summary>
    /// The package and its dependency closure. <paramref name="version"/>: null (latest, as the kernel would pick our
    /// local build), a wildcard (<c>*</c>, <c>*-*</c>), or the exact version the repository builds; anything else
    /// fails, because the notebook would then run against a different version than the one tested here.
    /// </summary>
    public ResolvedPackage Resolve(string id, string? version, string where)
    {
        if (!_libraries.TryGetValue(id, out var library) || library.Type is not ("project" or "package"))
            throw new NotebookDirectiveException(
                $"{where}: package '{id}' is not part of this repository's build, so the notebook would need a download the tests cannot check. " +
                "Reference CoCa.MLNet / CoCa.MLNet.Training (which bring Microsoft.ML, ONNX Runtime, TorchSharp), or add the package to tests/CoCa.MLNet.Notebooks.Tests.");
        if (version is not null && version is not ("*" or "*-*") && version != library.Version)
            throw new NotebookDirectiveException(
                $"{where}: '{id}, {version}' is requested but this repository builds {id} {library.Version}; update the notebook's #r line to '{id}, {library.Version}'.");

        var assemblies = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([library.Id]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (!seen.Add(current) || !_libraries.TryGetValue(current, out var lib)) continue;
            assemblies.AddRange(lib.RuntimeAssemblies.Select(a => Path.GetFileNameWithoutExtension(a)));
            foreach (var dependency in lib.Dependencies) pending.Push(dependency);
        }
        return new ResolvedPackage(library.Id, library.Version, library.Type == "project", assemblies.Distinct(StringComparer.OrdinalIgnoreCase).ToArray());
    }

    /// <summary>Loads (or finds already loaded) the package's assemblies in this process, for the script to reference.</summary>
    public static IReadOnlyList<Assembly> LoadAssemblies(ResolvedPackage package, string where)
    {
        var loaded = new List<Assembly>();
        foreach (var name in package.AssemblyNames)
        {
            try
            {
                loaded.Add(Assembly.Load(new AssemblyName(name)));
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw new NotebookDirectiveException($"{where}: assembly '{name}' of package {package.Id} {package.Version} could not be loaded: {e.Message}");
            }
        }
        return loaded;
    }
}

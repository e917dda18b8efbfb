using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace CoCa.MLNet.Notebooks.Tests.Runner;

/// <summary>How one notebook run went: what each cell showed and how long it took.</summary>
public sealed record NotebookRun(Notebook Notebook, IReadOnlyList<NotebookOutput> Outputs, IReadOnlyList<(int CellIndex, TimeSpan Duration)> CellDurations,
    IReadOnlyDictionary<string, object?> Variables)
{
    public T Variable<T>(string name) => Variables.TryGetValue(name, out var v) && v is T t
        ? t
        : throw new KeyNotFoundException($"{Notebook.Name} defines no variable '{name}' of type {typeof(T).Name}.");

    public IEnumerable<NotebookOutput> Svgs => Outputs.Where(o => o.MimeType == "text/html" && o.Text.Contains("<svg", StringComparison.Ordinal));
}

/// <summary>
/// Executes a notebook's code cells in order in one C# script session (Roslyn scripting), as the .NET Interactive C#
/// kernel does: each cell continues the previous cell's state, <c>#i</c> adds a package source, <c>#r "nuget: …"</c>
/// adds a package and its dependencies (from this repository's build, see <see cref="PackageCatalog"/>), and the
/// kernel's helpers (<c>display</c>, <c>HTML</c>, <c>.Display()</c>) are in scope. The first failing cell stops the run
/// with a <see cref="NotebookCellException"/> that names the notebook, the cell index and its first line.
/// </summary>
public sealed class NotebookRunner
{
    /// <summary>Namespaces the .NET Interactive C# kernel imports before the first cell.</summary>
    public static readonly string[] KernelImports =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks",
        typeof(KernelHelpers.DisplayExtensions).Namespace!,
    ];

    private readonly PackageCatalog _catalog;
    private readonly string _localPackageSource;
    private readonly TextWriter _log;

    /// <param name="catalog">Where <c>#r "nuget: …"</c> resolves.</param>
    /// <param name="localPackageSource">
    /// The folder the repository's <c>dotnet pack</c> writes to: a notebook must add it with <c>#i</c> before it
    /// references one of the repository's own packages, as a user has to (they are on no public feed).
    /// </param>
    /// <param name="log">Receives the cells' outputs and timings.</param>
    public NotebookRunner(PackageCatalog catalog, string localPackageSource, TextWriter log)
    {
        _catalog = catalog;
        _localPackageSource = Path.TrimEndingDirectorySeparator(Path.GetFullPath(localPackageSource));
        _log = log;
    }

    public async Task<NotebookRun> RunAsync(Notebook notebook, CancellationToken cancellationToken = default)
    {
        var kernel = new NotebookKernel(_log);
        var sources = new List<string>();
        var references = new List<MetadataReference>(FrameworkReferences());
        references.Add(MetadataReference.CreateFromFile(typeof(NotebookKernel).Assembly.Location));
        var referenced = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var durations = new List<(int, TimeSpan)>();
        ScriptState<object>? state = null;

        NotebookKernel.Current = kernel;
        try
        {
            foreach (var cell in notebook.CodeCells)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string where = $"{notebook.Name} cell {cell.Index}";
                kernel.CellIndex = cell.Index;
                var (directives, code) = CellDirectives.Parse(cell.Source, where);
                foreach (var directive in directives)
                    Apply(directive, notebook, where, sources, references, referenced);

                var options = ScriptOptions.Default
                    .WithReferences(references)
                    .WithImports(KernelImports)
                    .WithFilePath(Path.Combine(Path.GetDirectoryName(notebook.Path)!, $"{notebook.Name}.cell{cell.Index}.csx"))
                    .WithEmitDebugInformation(true)
                    .WithFileEncoding(System.Text.Encoding.UTF8)
                    .WithAllowUnsafe(false);
                var stopwatch = Stopwatch.StartNew();
                try
                {
                    state = state is null
                        ? await CSharpScript.RunAsync(code, options, globals: kernel, globalsType: typeof(NotebookKernel), cancellationToken: cancellationToken)
                        : await state.ContinueWithAsync(code, options, cancellationToken: cancellationToken);
                }
                catch (CompilationErrorException e)
                {
                    throw new NotebookCellException(notebook, cell, "does not compile:\n  " + string.Join("\n  ", e.Diagnostics.Select(d => d.ToString())), e);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    throw new NotebookCellException(notebook, cell, $"threw {e.GetType().Name}: {e.Message}", e);
                }
                if (state.Exception is { } thrown)
                    throw new NotebookCellException(notebook, cell, $"threw {thrown.GetType().Name}: {thrown.Message}", thrown);
                durations.Add((cell.Index, stopwatch.Elapsed));
                _log.WriteLine($"[cell {cell.Index} done in {stopwatch.Elapsed.TotalSeconds:F1} s] {cell.FirstLine}");
                // A cell ending in an expression shows its value, as in the notebook.
                if (state.ReturnValue is { } value) kernel.Record("result", value);
            }
        }
        finally
        {
            NotebookKernel.Current = null;
        }
        var variables = new Dictionary<string, object?>();
        foreach (var variable in state?.Variables ?? []) variables[variable.Name] = variable.Value;   // later cells win
        return new NotebookRun(notebook, kernel.Outputs, durations, variables);
    }

    private void Apply(CellDirective directive, Notebook notebook, string where, List<string> sources, List<MetadataReference> references, HashSet<string> referenced)
    {
        switch (directive)
        {
            case PackageSourceDirective source:
                sources.Add(ResolveSource(source.Source, notebook, $"{where} line {source.Line}"));
                break;
            case PackageReferenceDirective package:
                string at = $"{where} line {package.Line}";
                var resolved = _catalog.Resolve(package.PackageId, package.Version, at);
                if (resolved.IsRepositoryProject && !sources.Contains(_localPackageSource, StringComparer.Ordinal))
                    throw new NotebookDirectiveException(
                        $"{at}: {package.PackageId} is built by this repository and is on no public feed; add its package folder first: #i \"nuget: {Path.GetRelativePath(Path.GetDirectoryName(notebook.Path)!, _localPackageSource)}\".");
                foreach (var assembly in PackageCatalog.LoadAssemblies(resolved, at))
                    if (referenced.Add(assembly.Location))
                        references.Add(MetadataReference.CreateFromFile(assembly.Location));
                _log.WriteLine($"[{at}] {package.PackageId} {resolved.Version}: {resolved.AssemblyNames.Count} assemblies");
                break;
            case MagicCommandDirective magic when magic.Name is "csharp" or "c#":
                break;
            case MagicCommandDirective magic:
                throw new NotebookDirectiveException($"{where} line {magic.Line}: magic command '{magic.Text}' is not supported by the test runner (C# cells only).");
        }
    }

    /// <summary>
    /// A folder source resolves against the notebook's folder (where Jupyter and VS Code start the kernel). URLs are
    /// accepted as the kernel would, though nothing is downloaded from them.
    /// </summary>
    private static string ResolveSource(string source, Notebook notebook, string where)
    {
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return source;
        var folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source, Path.GetDirectoryName(notebook.Path)!));
        if (File.Exists(folder))
            throw new NotebookDirectiveException($"{where}: package source '{source}' is a file; expected a folder of .nupkg files.");
        return folder;
    }

    /// <summary>The shared framework's reference assemblies, all of them, as the kernel references them.</summary>
    private static IEnumerable<MetadataReference> FrameworkReferences()
    {
        var frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return Directory.EnumerateFiles(frameworkDir, "*.dll")
            .Where(IsManagedAssembly)
            .Select(path => MetadataReference.CreateFromFile(path));
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}

/// <summary>A notebook cell failed: names the notebook, the cell's index among all cells and its first line.</summary>
public sealed class NotebookCellException(Notebook notebook, NotebookCell cell, string what, Exception inner)
    : Exception($"{notebook.Name} cell {cell.Index} ({cell.FirstLine}) {what}", inner)
{
    public string NotebookName { get; } = notebook.Name;
    public int CellIndex { get; } = cell.Index;
}

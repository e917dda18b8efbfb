using System.Text.Json;
using CoCa.MLNet.Notebooks.Tests.Runner;
using CoCa.MLNet.Notebooks.Tests.Support;
using Xunit.Abstractions;

namespace CoCa.MLNet.Notebooks.Tests;

/// <summary>The runner itself, on small notebooks written here: what it executes, what it refuses, how it reports failures.</summary>
public sealed class NotebookRunnerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-notebook-runner-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PackagesSource => Path.GetRelativePath(_dir, RepositoryPaths.LocalPackages);

    private Notebook Write(params string[] cells)
    {
        var notebook = new
        {
            cells = cells.Select(c => c.StartsWith("md:", StringComparison.Ordinal)
                ? (object)new { cell_type = "markdown", metadata = new { }, source = c[3..] }
                : new { cell_type = "code", execution_count = (int?)null, metadata = new { polyglot_notebook = new { kernelName = "csharp" } }, outputs = Array.Empty<object>(), source = c }),
            metadata = new
            {
                kernelspec = new { display_name = ".NET (C#)", language = "C#", name = ".net-csharp" },
                language_info = new { name = "C#" },
                polyglot_notebook = new { kernelInfo = new { defaultKernelName = "csharp" } },
            },
            nbformat = 4,
            nbformat_minor = 5,
        };
        var path = Path.Combine(_dir, "test.ipynb");
        File.WriteAllText(path, JsonSerializer.Serialize(notebook));
        return Notebook.Load(path);
    }

    private Task<NotebookRun> Run(Notebook notebook) =>
        new NotebookRunner(PackageCatalog.ForTestAssembly(), RepositoryPaths.LocalPackages, new TestOutputWriter(output)).RunAsync(notebook);

    [Fact]
    public async Task CellsShareState_PackagesResolve_AndDisplaysAreRecorded()
    {
        var run = await Run(Write(
            $"#i \"nuget: {PackagesSource}\"\n#r \"nuget: CoCa.MLNet, 0.1.0\"",
            "md:# a heading",
            "using CoCa.MLNet.Configuration;\nvar config = CoCaConfigs.Get(\"coca_ViT-B-32\");",
            "display(HTML($\"<svg><text>{config.Vision.Width}</text></svg>\"));\nconfig.EmbedDim.Display();\nconfig.Vision.Layers"));

        Assert.Contains(run.Outputs, o => o.CellIndex == 3 && o.MimeType == "text/html" && o.Text == "<svg><text>768</text></svg>");
        Assert.Contains(run.Outputs, o => o.CellIndex == 3 && o.Kind == "display" && o.Text == "512");
        Assert.Contains(run.Outputs, o => o.CellIndex == 3 && o.Kind == "result" && o.Text == "12");
        Assert.Single(run.Svgs);
        Assert.Equal([0, 2, 3], run.CellDurations.Select(d => d.CellIndex));
    }

    [Fact]
    public async Task AThrowingCell_FailsTheRun_NamingNotebookCellAndFirstLine()
    {
        var notebook = Write("var x = 1;", "md:text", "// third cell\nif (x == 1) throw new InvalidOperationException(\"boom\");", "x = 2;");
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => Run(notebook));
        Assert.Equal(2, e.CellIndex);
        Assert.Equal("test.ipynb cell 2 (// third cell) threw InvalidOperationException: boom", e.Message);
    }

    [Fact]
    public async Task ACellThatDoesNotCompile_FailsWithTheDiagnostics()
    {
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => Run(Write("int y = \"text\";")));
        Assert.StartsWith("test.ipynb cell 0 (int y = \"text\";) does not compile:", e.Message);
        Assert.Contains("CS0029", e.Message);
    }

    [Fact]
    public async Task RepositoryPackages_NeedTheLocalSourceFirst()
    {
        var e = await Assert.ThrowsAsync<NotebookDirectiveException>(() => Run(Write("#r \"nuget: CoCa.MLNet, 0.1.0\"")));
        Assert.Contains("test.ipynb cell 0 line 1: CoCa.MLNet is built by this repository", e.Message);
        Assert.Contains($"#i \"nuget: {PackagesSource}\"", e.Message);
    }

    [Theory]
    [InlineData("#r \"nuget: Newtonsoft.Jsonish, 1.0.0\"", "package 'Newtonsoft.Jsonish' is not part of this repository's build")]
    [InlineData("#r \"nuget: CoCa.MLNet, 9.9.9\"", "this repository builds CoCa.MLNet 0.1.0")]
    [InlineData("#r \"/tmp/some.dll\"", "the runner resolves only package references")]
    [InlineData("#!fsharp", "magic command '#!fsharp' is not supported")]
    public async Task UnsupportedDirectives_AreClearErrors(string directive, string expected)
    {
        var e = await Assert.ThrowsAsync<NotebookDirectiveException>(() => Run(Write($"#i \"nuget: {PackagesSource}\"\n{directive}")));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ANotebookWithoutTheCSharpKernel_IsRejectedOnLoad()
    {
        var path = Path.Combine(_dir, "python.ipynb");
        File.WriteAllText(path, """{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}""");
        var e = Assert.Throws<NotebookFormatException>(() => Notebook.Load(path));
        Assert.Equal("python.ipynb: metadata.kernelspec.name is 'python3'; expected '.net-csharp' (.NET Interactive C#).", e.Message);
    }
}

using System.Diagnostics;
using System.Text.Json;

namespace CoCa.MLNet.Notebooks.Tests.Support;

/// <summary>One output of an executed cell: its ipynb type ("display_data", "execute_result", "stream", "error"),
/// its MIME types, and its text (text/plain, or the first MIME type's data; an error's name and the first line of its
/// value); an error's Detail is all it shows: its whole value, then its traceback lines.</summary>
public sealed record CellOutput(int Cell, string Kind, IReadOnlyList<string> MimeTypes, string Text, string Detail = "");

/// <summary>
/// Runs a notebook top to bottom in the real .NET Interactive kernel, as a user does from the command line:
/// <c>dotnet dotnet-repl --run NB --exit-after-run --output-format ipynb</c> (the local tool of
/// .config/dotnet-tools.json), after <c>notebooks/prepare</c> has put the packages where the notebooks'
/// <c>#r "nuget: …"</c> lines find them. Any error output, or a non-zero exit, fails with the notebook and cell named.
/// </summary>
public static class KernelRun
{
    private static readonly Lazy<Task<string>> Prepared = new(() => Run("bash", ["notebooks/prepare"], TimeSpan.FromMinutes(10)));

    /// <summary>The executed notebook's outputs, cell by cell (cells numbered from 1, markdown included).</summary>
    public static async Task<IReadOnlyList<CellOutput>> RunAsync(string notebook, TextWriter log)
    {
        var (outputs, sources, exitCode, text) = await Execute(notebook, Path.Combine("notebooks", notebook), log);
        var errors = outputs.Where(o => o.Kind == "error" || o.Kind == "stderr").ToList();
        if (errors.Count > 0)
            throw new Xunit.Sdk.XunitException(string.Join("\n", errors.Select(e =>
                $"{notebook}, cell {e.Cell} ({FirstLine(sources[e.Cell - 1])}): {e.Text}")));
        if (exitCode != 0)
            throw new Xunit.Sdk.XunitException($"{notebook}: dotnet-repl exited with {exitCode} and no error output:\n{Tail(text)}");
        return outputs;
    }

    /// <summary>
    /// Runs a copy of the notebook whose settings cell has <paramref name="setting"/>'s <c>Old</c> text replaced with
    /// its <c>New</c> text (e.g. a <c>dataFolder</c> of the user's), as a user who edits that cell does; the outputs,
    /// error outputs included (an error's text: its value, then its traceback lines).
    /// </summary>
    public static async Task<IReadOnlyList<CellOutput>> RunWithSettingAsync(string notebook, (string Old, string New) setting, TextWriter log)
    {
        var copy = Path.Combine(Directory.CreateTempSubdirectory("coca-notebook-edited-").FullName, notebook);
        var json = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Notebooks, notebook));
        string Encoded(string s) => JsonSerializer.Serialize(s)[1..^1];
        if (!json.Contains(Encoded(setting.Old), StringComparison.Ordinal)) throw new ArgumentException($"{notebook} has no '{setting.Old}'.");
        await File.WriteAllTextAsync(copy, json.Replace(Encoded(setting.Old), Encoded(setting.New), StringComparison.Ordinal));
        return (await Execute(notebook, copy, log)).Outputs;
    }

    private static async Task<(List<CellOutput> Outputs, List<string> Sources, int ExitCode, string Text)> Execute(string notebook, string path, TextWriter log)
    {
        log.WriteLine((await Prepared.Value).Trim());
        var output = Path.Combine(Directory.CreateTempSubdirectory("coca-notebook-").FullName, notebook);
        var clock = Stopwatch.StartNew();
        string text;
        int exitCode;
        try
        {
            (exitCode, text) = await Start(Dotnet, ["dotnet-repl", "--run", path, "--exit-after-run",
                "--output-format", "ipynb", "--output-path", output], TimeSpan.FromMinutes(10));
        }
        catch (TimeoutException e) { throw new Xunit.Sdk.XunitException($"{notebook}: {e.Message}"); }
        log.WriteLine($"{notebook}: dotnet-repl exit {exitCode} after {clock.Elapsed.TotalSeconds:F1} s");

        if (!File.Exists(output))
            throw new Xunit.Sdk.XunitException($"{notebook}: the kernel wrote no executed notebook (exit {exitCode}):\n{Tail(text)}");
        var (outputs, sources) = Read(output);
        return (outputs, sources, exitCode, text);
    }

    private static (List<CellOutput>, List<string>) Read(string ipynb)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ipynb));
        var outputs = new List<CellOutput>();
        var sources = new List<string>();
        var cells = doc.RootElement.GetProperty("cells");
        for (int i = 0; i < cells.GetArrayLength(); i++)
        {
            var cell = cells[i];
            sources.Add(Join(cell.GetProperty("source")));
            if (!cell.TryGetProperty("outputs", out var list)) continue;
            foreach (var o in list.EnumerateArray())
            {
                var kind = o.GetProperty("output_type").GetString()!;
                if (kind == "error")
                {
                    var value = o.GetProperty("evalue").GetString() ?? "";
                    var traceback = o.TryGetProperty("traceback", out var lines) ? lines.EnumerateArray().Select(l => l.GetString()).Where(l => !string.IsNullOrWhiteSpace(l)) : [];
                    outputs.Add(new(i + 1, kind, [], $"{o.GetProperty("ename").GetString()}: {FirstLine(value)}", string.Join("\n", [value, .. traceback]).Trim()));
                }
                else if (kind == "stream")
                {
                    var name = o.GetProperty("name").GetString();
                    outputs.Add(new(i + 1, name == "stderr" ? "stderr" : "stream", ["text/plain"], Join(o.GetProperty("text"))));
                }
                else if (o.TryGetProperty("data", out var data))
                {
                    var mimes = data.EnumerateObject().Select(p => p.Name).ToList();
                    var main = data.TryGetProperty("text/plain", out var plain) ? plain : data.EnumerateObject().First().Value;
                    outputs.Add(new(i + 1, kind, mimes, Join(main)));
                }
            }
        }
        return (outputs, sources);
    }

    private static string Join(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? string.Concat(e.EnumerateArray().Select(s => s.GetString())) : e.ToString();

    private static string FirstLine(string s) => s.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";

    private static string Tail(string s) => s.Length <= 4000 ? s : "…" + s[^4000..];

    /// <summary>The dotnet running these tests (inside ./dotnetw's root when the tests run through it).</summary>
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static async Task<string> Run(string file, string[] args, TimeSpan timeout)
    {
        var (code, text) = await Start(file, args, timeout);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}:\n{Tail(text)}");
        return text;
    }

    private static async Task<(int, string)> Start(string file, string[] args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        // The test host's MSBuild variables would point child builds at the test run's MSBuild. MSBUILDDISABLENODEREUSE
        // stays: a child build that may reuse nodes can attach to an idle MSBuild node of another build on the machine
        // (one left by a build outside ./dotnetw's root once hung notebooks/prepare's pack for 10 minutes).
        foreach (var name in start.Environment.Keys.Where(k => (k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH")
                                                               && !k.Equals("MSBUILDDISABLENODEREUSE", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["PATH"] = Path.GetDirectoryName(Dotnet) is { Length: > 0 } dir && Path.IsPathRooted(Dotnet)
            ? dir + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH") : Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(file)} {string.Join(' ', args)} took over {timeout.TotalMinutes:F0} minutes.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}

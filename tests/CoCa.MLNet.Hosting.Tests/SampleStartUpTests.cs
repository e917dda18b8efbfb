namespace CoCa.MLNet.Hosting.Tests;

/// <summary>
/// samples/AspNetCore started as a user starts it (its own process): a model it cannot serve ends the start with one
/// logged line and exit code 1, not an unhandled exception and its stack trace.
/// </summary>
[Collection(TinyClassifierCollection.Name)]
public sealed class SampleStartUpTests(TinyClassifier classifier)
{
    [Fact]
    public void AMissingModelFile_IsOneLoggedLine_AndExitCode1()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-classifier.zip");
        AssertFailsWithOneLine(Start("--Model", missing),
            $"Cannot start: Model file '{missing}' does not exist; expected a pipeline saved with SaveCoCa (e.g. by coca train).");
    }

    [FixtureFact]
    public void AnInputColumnTheModelLacks_IsOneLoggedLine_AndExitCode1() =>
        AssertFailsWithOneLine(Start("--Model", classifier.ModelPath, "--InputColumn", "Photo"),
            $"Cannot start: Model '{classifier.ModelPath}' cannot score ImageInput into ImagePrediction:", $"'{TinyClassifier.InputColumn}'");

    [FixtureFact]
    public void AMaxUploadBytesThatIsNotAPositiveNumber_IsOneLoggedLine_AndExitCode1()
    {
        // Before: an unhandled exception from the configuration binder or from Kestrel's limits, exit code 134.
        AssertFailsWithOneLine(Start("--Model", classifier.ModelPath, "--MaxUploadBytes", "20MB"),
            "Cannot start: MaxUploadBytes must be a positive whole number of bytes, got '20MB'.");
        AssertFailsWithOneLine(Start("--Model", classifier.ModelPath, "--MaxUploadBytes", "-5"),
            "Cannot start: MaxUploadBytes must be a positive whole number of bytes, got '-5'.");
    }

    [FixtureFact]
    public void WithoutOnnxRuntimesNativeLibrary_IsOneLoggedLine_NamingThePackage()
    {
        // An application that references CoCa.MLNet (ONNX Runtime's API only) but no native package: a copy of the sample's
        // output folder (this platform's native libraries only, without libtorch, which it does not use) less ONNX
        // Runtime's. Before: "The type initializer for 'Microsoft.ML.OnnxRuntime.NativeMethods' threw an exception."
        var app = Directory.CreateTempSubdirectory("coca-no-ort-").FullName;
        try
        {
            var thisPlatform = Path.Combine("runtimes", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier);
            foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(AppContext.BaseDirectory, file);
                var name = Path.GetFileName(file);
                if (relative.StartsWith("runtimes", StringComparison.Ordinal) && !relative.StartsWith(thisPlatform + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
                if (name.Contains("onnxruntime", StringComparison.Ordinal) || name.Contains("torch", StringComparison.Ordinal) || name.EndsWith(".dbg", StringComparison.Ordinal)) continue;
                var copy = Path.Combine(app, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }
            var run = CliProcess.RunApp(Path.Combine(app, "AspNetCore.dll"), TimeSpan.FromMinutes(2), "--Model", classifier.ModelPath, "--urls", "http://127.0.0.1:0");
            AssertFailsWithOneLine(run, "Cannot start:", "ONNX Runtime's native library cannot be loaded", "Microsoft.ML.OnnxRuntime package");
            Assert.DoesNotContain("damaged", run.StdOut + run.StdErr);   // the machine lacks a library; the model file is fine
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    private static CliProcess.Result Start(params string[] args) =>
        CliProcess.RunApp("AspNetCore.dll", TimeSpan.FromMinutes(2), [.. args, "--urls", "http://127.0.0.1:0"]);

    private static void AssertFailsWithOneLine(CliProcess.Result run, params string[] expected)
    {
        Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}\n{run.StdOut}\n{run.StdErr}");
        var lines = (run.StdOut + run.StdErr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("crit: ", line);
        Assert.All(expected, e => Assert.Contains(e, line));
    }
}

using CoCa.MLNet;
using CoCa.MLNet.Demo;
using Microsoft.ML;
using System.Diagnostics;
using CoCa.MLNet.Notebooks.Tests.Support;
using Xunit.Abstractions;

namespace CoCa.MLNet.Notebooks.Tests;

/// <summary>
/// The samples with their defaults (built-in data): the console apps in-process, the file-based apps as a user runs
/// them (<c>dotnet run samples/x.cs</c>). Each must finish, and leave its charts and saved model behind.
/// </summary>
public sealed class SampleTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("coca-samples-").FullName;
    private readonly TinyCoCaModel _tiny = TinyCoCaCache.Model;   // trained (once) before any sample runs

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private (int ExitCode, string Output) RunInProcess(Func<string[], int> main, params string[] args)
    {
        var writer = new StringWriter();
        var (stdout, stderr) = (Console.Out, Console.Error);
        Console.SetOut(writer);
        Console.SetError(writer);
        var clock = Stopwatch.StartNew();
        int code;
        try { code = main(args); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
        output.WriteLine(writer.ToString());
        output.WriteLine($"exit {code} after {clock.Elapsed.TotalSeconds:F1} s");
        return (code, writer.ToString());
    }

    private void AssertOutputs(string text, params string[] files)
    {
        Assert.Contains(files.Contains("zero-shot.zip") ? "zero-shot accuracy" : "test accuracy", text);
        foreach (var file in files) Assert.True(File.Exists(Path.Combine(_work, file)), $"{file} was not written to {_work}");
        var confusion = File.ReadAllText(Path.Combine(_work, "confusion.html"));
        Assert.Contains("Plotly.newPlot", confusion);                   // drawn by plotly.js (Plotly.NET's page)
        Assert.Equal(1, PlotlyFigure.Count(confusion, "heatmap"));
    }

    [Fact]
    public void ImageClassificationApp_RunsOnBuiltInData()
    {
        var (code, text) = RunInProcess(Samples.ImageClassification.Program.Main, "--work", _work);
        Assert.Equal(0, code);
        AssertOutputs(text, "loss.html", "confusion.html", "image-classifier.zip");
        Assert.Contains("featurizing training images [##############################] ", text);   // the progress bar, full

        // The saved classifier scores a new image from its path alone (no Label column, as the ASP.NET sample and any
        // user's input class have), into the class name: before, its MapValueToKey("Label") made a label a must.
        var ml = new MLContext();
        var model = ml.Model.LoadCoCa(Path.Combine(_work, "image-classifier.zip"), out var inputSchema);
        Assert.NotNull(inputSchema);
        Assert.Equal(["Path"], inputSchema.Select(c => c.Name));
        var image = Directory.GetFiles(Path.Combine(_work, "images", "left")).First();
        var prediction = ml.Model.CreatePredictionEngine<NewImage, ClassPrediction>(model, inputSchema).Predict(new NewImage { Path = image });
        Assert.Contains(prediction.PredictedLabel, (string[])["bottom", "left", "right", "top"]);
        Assert.Equal(4, prediction.Score.Length);
    }

    public sealed class NewImage
    {
        public string Path { get; set; } = "";
    }

    public sealed class ClassPrediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void VideoActionRecognitionApp_RunsOnBuiltInData()
    {
        var (code, text) = RunInProcess(Samples.VideoActionRecognition.Program.Main, "--work", _work, "--epochs", "10");
        Assert.Equal(0, code);
        AssertOutputs(text, "loss.html", "confusion.html", "action-classifier.zip");
        Assert.Contains("actions left, right, up, down", text);
    }

    [Fact]
    public void ZeroShotApp_RunsOnBuiltInData()
    {
        var (code, text) = RunInProcess(Samples.ZeroShot.Program.Main, "--work", _work);
        Assert.Equal(0, code);
        AssertOutputs(text, "confusion.html", "zero-shot.zip");
        Assert.Contains("\"a red circle on the left\"", text);             // prompts written like the tiny CoCa's captions
        var accuracy = System.Text.RegularExpressions.Regex.Match(text, @"zero-shot accuracy ([0-9.]+) ?%");
        Assert.True(accuracy.Success && double.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 60, text);   // chance 25 %
    }

    [Fact]
    public void CaptioningApp_RunsOnBuiltInData()
    {
        var (code, text) = RunInProcess(Samples.Captioning.Program.Main, "--work", _work);
        Assert.Equal(0, code);
        Assert.Contains("reloaded captions identical: True", text);
        foreach (var file in new[] { "captions.tsv", "captioner.zip" }) Assert.True(File.Exists(Path.Combine(_work, file)), $"{file} was not written");
        Assert.Equal(7, File.ReadAllLines(Path.Combine(_work, "captions.tsv")).Length);   // header + 6 images
    }

    [Fact]
    public void CaptioningFileBasedApp_RunsWithDotnetRun()
    {
        var (code, text) = DotnetRun(Path.Combine(RepositoryPaths.Samples, "captioning.cs"), "--work", _work);
        Assert.True(code == 0, $"dotnet run captioning.cs exited with {code}:\n{text}");
        Assert.Contains("on 6 pictures (METEOR and SPICE need Java: not computed)", text);
        Assert.Contains("reloaded captions identical: True", text);
        Assert.True(File.Exists(Path.Combine(_work, "captioner.zip")));
    }

    [Fact]
    public void FineTuningFileBasedApp_BeatsTheFrozenPoolerWhereTheEncoderIsBlind()
    {
        var (code, text) = DotnetRun(Path.Combine(RepositoryPaths.Samples, "fine-tuning.cs"), "--work", _work);
        Assert.True(code == 0, $"dotnet run fine-tuning.cs exited with {code}:\n{text}");
        double Accuracy(string what)
        {
            var match = System.Text.RegularExpressions.Regex.Match(text, what + @": test accuracy ([0-9.]+) ?%");
            Assert.True(match.Success, text);
            return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        double frozen = Accuracy("frozen encoder \\+ new pooler"), fineTuned = Accuracy("fine-tuned encoder \\+ new pooler");
        Assert.True(fineTuned >= frozen + 20, $"fine-tuned {fineTuned} % is not well above frozen {frozen} %:\n{text}");   // colour-blind encoder on colour: 46 % vs 100 % measured
        Assert.True(File.Exists(Path.Combine(_work, "fine-tuned-classifier.zip")));
    }

    [Fact]
    public void Apps_RejectMissingDataAndUnknownOptions_WithTheReason()
    {
        var missing = Path.Combine(_work, "no-such-folder");
        var (code, text) = RunInProcess(Samples.ImageClassification.Program.Main, "--data", missing);
        Assert.Equal(1, code);
        Assert.Contains($"error: Option '--data': '{missing}' does not exist.", text);
        (code, text) = RunInProcess(Samples.VideoActionRecognition.Program.Main, "--frame", "4");
        Assert.Equal(1, code);
        Assert.Contains("error: Unknown argument '--frame'.", text);
    }

    [Theory]
    [InlineData("image-classification.cs", "image-classifier.zip")]
    [InlineData("video-action-recognition.cs", "action-classifier.zip")]
    [InlineData("zero-shot.cs", "zero-shot.zip")]
    public void FileBasedApp_RunsWithDotnetRun(string app, string model)
    {
        var (code, text) = DotnetRun(Path.Combine(RepositoryPaths.Samples, app), "--work", _work);
        Assert.True(code == 0, $"dotnet run {app} exited with {code}:\n{text}");
        AssertOutputs(text, model == "zero-shot.zip" ? ["confusion.html", model] : ["loss.html", "confusion.html", model]);
    }

    [Fact]
    public void FileBasedApp_ABadOptionOrDataFolder_IsOneErrorLine_NotACrash()
    {
        // Before, the file-based apps parsed their options outside the samples' error handling: "Unhandled exception."
        // with a stack trace, exit code 134.
        var (code, text) = DotnetRun(Path.Combine(RepositoryPaths.Samples, "zero-shot.cs"), "--bogus", "1");
        Assert.True(code == 1, $"exit {code}:\n{text}");
        Assert.Contains("error: Unknown argument '--bogus'.", text);
        Assert.DoesNotContain("Unhandled exception", text);

        var file = Path.Combine(_work, "photos.zip");
        File.WriteAllBytes(file, [1, 2, 3]);
        (code, text) = DotnetRun(Path.Combine(RepositoryPaths.Samples, "image-classification.cs"), "--data", file, "--work", _work);
        Assert.True(code == 1, $"exit {code}:\n{text}");
        Assert.Contains($"error: Data folder '{file}' is a file; expected a folder with one sub-folder per class holding its images.", text);
        Assert.DoesNotContain("   at ", text);
    }

    /// <summary><c>dotnet run app.cs -- args</c> with the SDK running these tests, from the repository root.</summary>
    private (int, string) DotnetRun(string app, params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["run", app, "--", .. args]) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(entireProcessTree: true); throw new TimeoutException($"dotnet run {app} took over 5 minutes."); }
        var text = stdout + stderr.Result;
        output.WriteLine(text);
        output.WriteLine($"dotnet run {Path.GetFileName(app)}: exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s (build included)");
        return (process.ExitCode, text);
    }
}

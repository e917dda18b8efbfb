using System.Text.RegularExpressions;
using CoCa.MLNet.Tests.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CoCa.MLNet.Tests.Documentation;

/// <summary>
/// Every C# block of README.md compiles against the current public API, so the README never shows a name, a
/// parameter or an overload that no longer exists. Each block is compiled as the body of a method whose parameters are
/// the block's free variables (the rows, data views and ASP.NET builder it assumes), declared below by the block's first line.
/// </summary>
public sealed partial class ReadmeCodeTests
{
    /// <summary>
    /// The call a block shows → what the block assumes: the parameters of the method it becomes (types spelled in full,
    /// so they add no using the block itself lacks), types it names, and whether it is ASP.NET code (the Web SDK's
    /// implicit usings).
    /// </summary>
    private static readonly Dictionary<string, (string Parameters, string Types, bool Web)> Contexts = new()
    {
        ["Trainers.AttentionalPooler("] = ("IEnumerable<ImageRow> trainFiles, IEnumerable<ImageRow> testFiles",
            "public sealed class ImageRow { public string Image { get; set; } = \"\"; public string Label { get; set; } = \"\"; }", false),
        ["Trainers.FineTunedCoCa("] = ("Microsoft.ML.MLContext ml", "", false),
        ["Trainers.CoCaZeroShot("] = ("Microsoft.ML.MLContext ml, Microsoft.ML.IDataView images, Microsoft.ML.IDataView captionsWithEmbeddings, "
            + "Microsoft.ML.IDataView featuredImages, int[] captionImage, string[] videoPaths, string[] captions, int[] captionVideo", "", false),
        ["Transforms.GenerateCoCaCaption("] = ("Microsoft.ML.MLContext ml, Microsoft.ML.IDataView images", "", false),
        ["CaptionMetrics.Compute("] = ("IReadOnlyDictionary<string, IReadOnlyList<string>> references, IReadOnlyDictionary<string, string> candidates, Microsoft.ML.IDataView captioned", "", false),
        ["CoCaFineTuner.Train("] = ("", "", false),
        ["AddCoCaPredictionEnginePool<"] = ("Microsoft.AspNetCore.Builder.WebApplicationBuilder builder, string path",
            "public sealed class ImageInput { public string Image { get; set; } = \"\"; } public sealed class ImagePrediction { public string PredictedLabel { get; set; } = \"\"; public float[] Score { get; set; } = []; }", true),
    };

    /// <summary>The .NET SDK's implicit usings (ImplicitUsings=enable), of a console app and of an ASP.NET app.</summary>
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];
    private static readonly string[] WebImplicitUsings =
        ["System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing",
         "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection", "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging"];

    [GeneratedRegex(@"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    public static IEnumerable<object[]> Blocks() =>
        CSharpBlock().Matches(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md")).ReplaceLineEndings("\n"))
            .Select((m, i) => new object[] { i + 1, m.Groups[1].Value });

    [Theory]
    [MemberData(nameof(Blocks))]
    public void ReadmeCSharpBlock_CompilesAgainstThePublicApi(int number, string code)
    {
        var lines = code.Split('\n');
        var shown = Contexts.Keys.Where(code.Contains).ToList();
        Assert.True(shown.Count == 1, $"README C# block {number} shows {(shown.Count == 0 ? "none" : string.Join(", ", shown))} of the calls "
            + $"{nameof(ReadmeCodeTests)}.{nameof(Contexts)} knows: key it there by the one call it shows, with the variables it assumes.");
        var context = Contexts[shown[0]];
        var usings = lines.Where(l => l.StartsWith("using ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';') && !l.Contains('='));
        var body = lines.Where(l => !usings.Contains(l));
        var implicitUsings = context.Web ? ImplicitUsings.Concat(WebImplicitUsings) : ImplicitUsings;
        var source = string.Join("\n", implicitUsings.Select(u => $"using {u};").Concat(usings))
            + $"\n{context.Types}\npublic static class ReadmeBlock\n{{\n    public static void Run({context.Parameters})\n    {{\n"
            + string.Join("\n", body) + "\n    }\n}\n";

        var compilation = CSharpCompilation.Create($"ReadmeBlock{number}", [CSharpSyntaxTree.ParseText(source)], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, $"README C# block {number} does not compile:\n{string.Join("\n", errors)}\n--- as compiled:\n{source}");
    }

    /// <summary>What the test host loads (the projects, ML.NET, the framework) and ASP.NET Core's shared framework beside it.</summary>
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        var runtime = new DirectoryInfo(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
        var aspNet = new DirectoryInfo(Path.Combine(runtime.Parent!.Parent!.FullName, "Microsoft.AspNetCore.App", runtime.Name));
        Assert.True(aspNet.Exists, $"ASP.NET Core's shared framework not found at {aspNet.FullName}");
        var known = paths.Select(Path.GetFileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        paths.AddRange(aspNet.EnumerateFiles("*.dll").Where(f => !known.Contains(f.Name)).Select(f => f.FullName));
        return [.. paths.Where(File.Exists).Select(p => MetadataReference.CreateFromFile(p))];
    });
}

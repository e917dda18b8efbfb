// The GPU check (issue 21): ONNX Runtime on CUDA against the CPU, on a random coca_ViT-B-32, in one run that writes
// gpu-report.md. Run it through eng/gpu-check, which builds the GPU flavour and finds CUDA's libraries.
//   CoCa.MLNet.GpuCheck [--out DIR] [--images N] [--captions N] [--note LINE]...
// Exit code: 0 when every check that could run passed (no GPU is not a failure: the CPU half runs and the report says
// "no GPU"), 1 when a GPU result disagrees with the CPU or a GPU path that should run fails.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.GpuCheck;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Demo;
using Microsoft.ML.OnnxRuntime;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var outDir = Args.String(args, "--out", ".");
int imageCount = Args.Int(args, "--images", 256), captionCount = Args.Int(args, "--captions", 16);
var notes = Args.All(args, "--note");
Directory.CreateDirectory(outDir);
var report = new Report(Path.Combine(outDir, "gpu-report.md"));
var total = Stopwatch.StartNew();
var work = Directory.CreateTempSubdirectory("coca-gpu-check-");
int failures = 0;
try
{
    report.Title("CoCa.MLNet GPU check");
    report.Line($"Written by `eng/gpu-check` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Model: `coca_ViT-B-32` with random weights (seed 0), fp32 unless a row says otherwise; {imageCount} generated 320×240 PNG pictures, batches of {Check.Batch}.");
    report.Section("Machine");
    report.Line($"- CPU: {Machine.Cpu()}, {Environment.ProcessorCount} cores; {Machine.MemoryGiB():F0} GiB; {RuntimeInformation.OSDescription}; .NET {Environment.Version}");
    report.Line($"- GPU: {Machine.Gpu() ?? "none seen by nvidia-smi"}");
    report.Line($"- ONNX Runtime {OrtEnv.Instance().GetVersionString()}, providers: {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}");
    foreach (var note in notes) report.Line($"- {note}");

    // --- Model and data --------------------------------------------------------------------------------------------
    var sw = Stopwatch.StartNew();
    var config = CoCaConfigs.Get("coca_ViT-B-32");
    var weights = RandomCoCaCheckpoint.Create(config, seed: 0, includeText: true, includeDecoder: true);
    var model = CoCaConverter.Convert(weights, config, Path.Combine(work.FullName, "fp32"));
    var int8Dir = CoCaConverter.Convert(weights, config, Path.Combine(work.FullName, "int8"), precision: VisionPrecision.Int8).Directory;
    var files = SyntheticImageDataset.Generate(Path.Combine(work.FullName, "images"), classCount: 4, perClass: (imageCount + 3) / 4, width: 320, height: 240)
        .Take(imageCount).Select(f => f.Path).ToArray();
    Console.WriteLine($"gpu-check: model converted (fp32 and int8) and {files.Length} pictures written in {sw.Elapsed.TotalSeconds:F1} s");

    // --- Does CUDA run at all? -------------------------------------------------------------------------------------
    var cpu = new OnnxExecutionOptions();
    var cuda = new OnnxExecutionOptions { Device = "cuda:0", FallbackToCpu = false };
    string? noGpu = Check.WhyNoCuda(model, cuda);
    report.Section("Result");
    report.Line(noGpu is null ? "- CUDA: the CUDA execution provider runs the vision model on cuda:0."
        : $"- **no GPU**: {noGpu} Only the CPU half ran.");
    Console.WriteLine(noGpu is null ? "gpu-check: CUDA runs" : $"gpu-check: no GPU ({noGpu}); running the CPU half");
    if (noGpu is not null)
    {
        // What a user without a GPU gets from --device cuda:0 (FallbackToCpu, the default): the CPU's numbers, not an error.
        var few = files.Take(Check.Batch).ToArray();
        var fellBack = Check.Featurize(model.Directory, few, new OnnxExecutionOptions { Device = "cuda:0" });
        var onCpu = Check.Featurize(model.Directory, few, cpu);
        bool same = fellBack.Embeddings.AsSpan().SequenceEqual(onCpu.Embeddings);
        if (!same) failures++;
        report.Line($"- `Device = \"cuda:0\"` with `FallbackToCpu` (the default) ran on the CPU: embeddings {(same ? "equal to the CPU's (pass)" : "**differ from the CPU's (FAIL)**")}.");
    }

    // --- Featurization: files → tokens and embeddings, and the encoder alone -----------------------------------------
    var cpuRun = Check.Featurize(model.Directory, files, cpu);
    var pixels = Check.Preprocess(model.Directory, files);
    var rows = new List<string[]>();
    rows.Add(["CPU, all cores", $"{cpuRun.ImagesPerSecond:F1}", $"{Check.EncoderOnly(model, pixels, files.Length, cpu):F1}", "reference", "reference"]);
    Check.Result? gpuRun = null;
    if (noGpu is null)
    {
        gpuRun = Check.Featurize(model.Directory, files, cuda);
        double embDiff = Check.MaxRelativeDifference(gpuRun.Embeddings, cpuRun.Embeddings, config.EmbedDim);
        double tokDiff = Check.MaxRelativeDifference(gpuRun.Tokens, cpuRun.Tokens, config.Vision.TokenCount * config.Vision.Width);
        rows.Add(["cuda:0 (fp32, TF32 off: the default)", $"{gpuRun.ImagesPerSecond:F1}", $"{Check.EncoderOnly(model, pixels, files.Length, cuda):F1}", $"{embDiff:E2}", $"{tokDiff:E2}"]);
        bool ok = embDiff <= 1e-3;
        if (!ok) failures++;
        report.Line($"- Embeddings on cuda:0 vs CPU: max relative difference {embDiff:E2} (goal ≤ 1e-3): **{(ok ? "pass" : "FAIL")}**; tokens {tokDiff:E2}.");

        var tf32 = cuda with { AllowTf32 = true };
        var tf32Run = Check.Featurize(model.Directory, files, tf32);
        rows.Add(["cuda:0, `AllowTf32 = true`", $"{tf32Run.ImagesPerSecond:F1}", $"{Check.EncoderOnly(model, pixels, files.Length, tf32):F1}",
            $"{Check.MaxRelativeDifference(tf32Run.Embeddings, cpuRun.Embeddings, config.EmbedDim):E2}",
            $"{Check.MaxRelativeDifference(tf32Run.Tokens, cpuRun.Tokens, config.Vision.TokenCount * config.Vision.Width):E2}"]);

        foreach (var (what, rate) in Check.IoBinding(model, pixels, files.Length))
            rows.Add([what, "", $"{rate:F1}", "", ""]);
    }
    report.Section("Featurization");
    report.Line("images/s; end to end = PNG files → tokens + embedding through `CoCaImageFeatureExtractor.ExtractBatches` (decoding and preprocessing on the CPU, pipelined with the encoder); encoder only = preprocessed batches through ONNX Runtime. Relative difference per image: max |x − x_cpu| / max |x_cpu|, the worst image.");
    report.Table(["device", "end to end", "encoder only", "embedding rel. diff", "tokens rel. diff"], rows);

    // --- Captions: greedy and beam search, ids equal ----------------------------------------------------------------
    var captionFiles = files.Take(captionCount).ToArray();
    var captionRows = new List<string[]>();
    foreach (var (decoding, name) in new[] { (CaptionDecoding.Greedy, "greedy"), (CaptionDecoding.BeamSearch, "beam search, 6 beams") })
    {
        var cpuCaptions = Check.Caption(model, captionFiles, cpu, decoding);
        captionRows.Add([name, "CPU", $"{cpuCaptions.PerSecond:F2}", "reference"]);
        if (noGpu is not null) continue;
        var gpuCaptions = Check.Caption(model, captionFiles, cuda, decoding);
        string? mismatch = Check.FirstMismatch(gpuCaptions.Ids, cpuCaptions.Ids);
        if (mismatch is not null) failures++;
        captionRows.Add([name, "cuda:0", $"{gpuCaptions.PerSecond:F2}", mismatch is null ? "equal" : $"**differ**: {mismatch}"]);
        report.Line($"- {name} captions of {captionFiles.Length} pictures on cuda:0 vs CPU: ids {(mismatch is null ? "**equal** (pass)" : $"**differ** (FAIL): {mismatch}")}.");
    }
    report.Section("Captioning");
    report.Line($"{captionFiles.Length} pictures in one batch, up to 30 tokens, key/value cache (vision model's caption tokens → caption decoder); captions/s including the vision model. On CUDA the cross-attention keys/values stay on the device, and greedy decoding's self-attention cache too (IO binding).");
    report.Table(["decoding", "device", "captions/s", "ids vs CPU"], captionRows);

    // --- int8 -----------------------------------------------------------------------------------------------------
    report.Section("int8 vision model (`coca convert --precision int8`)");
    var int8Cpu = Check.Featurize(int8Dir, files, cpu);
    var int8Rows = new List<string[]>();
    int8Rows.Add(["CPU", $"{int8Cpu.ImagesPerSecond:F1}", $"{Check.MinCosine(int8Cpu.Embeddings, cpuRun.Embeddings, config.EmbedDim):F4}"]);
    if (noGpu is null)
    {
        try
        {
            var int8Gpu = Check.Featurize(int8Dir, files, cuda);
            int8Rows.Add(["cuda:0", $"{int8Gpu.ImagesPerSecond:F1}", $"{Check.MinCosine(int8Gpu.Embeddings, cpuRun.Embeddings, config.EmbedDim):F4}"]);
            report.Line("The CUDA provider ran the int8 model; quantized operators it lacks run on the CPU inside the same session (ONNX Runtime assigns them there), which the rate shows.");
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or OnnxRuntimeException)
        {
            int8Rows.Add(["cuda:0", "not run", e.GetBaseException().Message.Split('\n')[0]]);
            report.Line($"The CUDA provider cannot run the int8 model: {e.GetBaseException().Message.Split('\n')[0]}");
        }
    }
    report.Table(["device", "end to end images/s", "min embedding cosine vs fp32 CPU"], int8Rows);

    report.Section("Verdict");
    report.Line(noGpu is not null ? $"no GPU: CPU half only, {(failures == 0 ? "passed" : $"{failures} check(s) failed")} ({total.Elapsed.TotalSeconds:F0} s)."
        : failures == 0 ? $"All GPU checks passed ({total.Elapsed.TotalSeconds:F0} s)." : $"{failures} GPU check(s) failed ({total.Elapsed.TotalSeconds:F0} s).");
    report.Save();
    Console.WriteLine($"gpu-check: report written to {report.Path}");
    Console.WriteLine(noGpu is not null ? $"gpu-check: no GPU{(failures == 0 ? "" : $"; {failures} CPU check(s) failed")}" : failures == 0 ? "gpu-check: all GPU checks passed" : $"gpu-check: {failures} GPU check(s) failed");
    return failures == 0 ? 0 : 1;
}
catch (Exception e)
{
    report.Section("Stopped");
    report.Line($"The check stopped: {e.GetType().Name}: {e.Message}");
    report.Save();
    Console.Error.WriteLine($"gpu-check: stopped: {e}");
    return 1;
}
finally
{
    work.Delete(recursive: true);
}

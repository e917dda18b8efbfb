using CoCa.MLNet.Captioning;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Peak memory of one beam search (random coca_ViT-B-32-size decoder, every caption decoded to --max-tokens) against
/// the decoder's own estimate (<c>CoCaCaptionDecoder.BeamSearchBytesPerImage</c>), which decides how many images it
/// decodes at once and refuses beams that cannot fit. One measurement per process (peak RSS is process-wide):
/// <c>beam-memory --beams 48 --batch 4</c>.
/// </summary>
internal static class BeamMemoryBenchmark
{
    public static int Run(string[] args)
    {
        string name = FeaturizerBenchmark.StringArg(args, "--model", "coca_ViT-B-32");
        int beams = FeaturizerBenchmark.IntArg(args, "--beams", 6);
        int batch = FeaturizerBenchmark.IntArg(args, "--batch", 1);
        int maxTokens = FeaturizerBenchmark.IntArg(args, "--max-tokens", 30);
        var config = CoCaConfigs.Get(name);
        var weights = RandomCoCaCheckpoint.Create(config, seed: 0, includeDecoder: true);
        var (image, step) = CaptionDecoderOnnx.CreateGraphs(config, weights);
        using var decoder = new CoCaCaptionDecoder(image.ToBytes(), step.ToBytes(), config,
            new OnnxExecutionOptions { IntraOpNumThreads = Environment.ProcessorCount });
        var random = new Random(0);
        var tokens = new float[batch * decoder.CaptionTokenCount * decoder.EmbedDim];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (float)(random.NextDouble() * 2 - 1);
        var options = new CaptionGenerationOptions { Decoding = CaptionDecoding.BeamSearch, Beams = beams, MaxTokens = maxTokens, MinTokens = maxTokens - 1 };
        weights = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        double before = MachineInfo.RssMiB();
        double peakBefore = MachineInfo.PeakRssMiB();
        var ids = decoder.Generate(tokens, batch, options);
        double peak = MachineInfo.PeakRssMiB();
        double estimate = batch * decoder.BeamSearchBytesPerImage(options) / (1024.0 * 1024);
        Console.WriteLine($"machine: {MachineInfo.Describe()}");
        Console.WriteLine($"| model | beams | images | tokens | RSS before | peak RSS | peak − before | estimate | estimate ÷ measured |");
        Console.WriteLine($"| {name} | {beams} | {batch} | {ids[0].Length} | {before:F0} MiB | {peak:F0} MiB (before decoding {peakBefore:F0}) | {peak - before:F0} MiB | {estimate:F0} MiB | {estimate / (peak - before):F2} |");
        return 0;
    }
}

using System.Diagnostics;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Captions/s of the caption decoder of a coca_ViT-B-32-size model (random weights), greedy and beam search (6 beams),
/// batches of 1 and 16 images, with the key/value cache vs recomputing the prefix at every step (open_clip's
/// generate(): also the image's cross-attention keys/values every step; and a middle row with those computed once).
/// Every run decodes the same number of steps: min tokens = max tokens − 1 blocks the end token until the last position.
/// Options: --model coca_ViT-B-32, --max-tokens 30, --threads N (default: all cores), --skip-slow (no-cache at batch 16 only for greedy).
/// </summary>
internal static class CaptionBenchmark
{
    public static int Run(string[] args)
    {
        string name = FeaturizerBenchmark.StringArg(args, "--model", "coca_ViT-B-32");
        int maxTokens = FeaturizerBenchmark.IntArg(args, "--max-tokens", 30);
        int threads = FeaturizerBenchmark.IntArg(args, "--threads", Environment.ProcessorCount);
        bool skipSlow = args.Contains("--skip-slow");
        var config = CoCaConfigs.Get(name);
        Console.WriteLine($"machine: {MachineInfo.Describe()}");
        Console.WriteLine($"model: {name} caption decoder (random weights), {maxTokens} tokens per caption, ONNX Runtime intra-op threads {threads}");
        var sw = Stopwatch.StartNew();
        var weights = RandomCoCaCheckpoint.Create(config, seed: 0, includeDecoder: true);
        var (image, step) = CaptionDecoderOnnx.CreateGraphs(config, weights);
        using var decoder = new CoCaCaptionDecoder(image.ToBytes(), step.ToBytes(), config, new OnnxExecutionOptions { IntraOpNumThreads = threads });
        Console.WriteLine($"build: {sw.Elapsed.TotalSeconds:F1} s");

        var random = new Random(0);
        int per = decoder.CaptionTokenCount * decoder.EmbedDim;
        var tokens = new float[16 * per];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (float)(random.NextDouble() * 2 - 1);

        Console.WriteLine();
        Console.WriteLine("| decoding | batch | cached captions/s | no cache, image K/V once | no cache (open_clip: prefix + image K/V every step) | speed-up vs open_clip's way |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var decoding in new[] { CaptionDecoding.Greedy, CaptionDecoding.BeamSearch })
            foreach (var batch in new[] { 1, 16 })
            {
                var options = new CaptionGenerationOptions { Decoding = decoding, MaxTokens = maxTokens, MinTokens = maxTokens - 1 };
                Measure(decoder, tokens, 1, options, Mode.Cached);   // warm-up
                double cached = Measure(decoder, tokens, batch, options, Mode.Cached);
                bool slow = skipSlow && batch > 1 && decoding == CaptionDecoding.BeamSearch;
                double once = slow ? double.NaN : Measure(decoder, tokens, batch, options, Mode.ImageOnce);
                double openClip = slow ? double.NaN : Measure(decoder, tokens, batch, options, Mode.OpenClip);
                Console.WriteLine($"| {(decoding == CaptionDecoding.Greedy ? "greedy" : "beam 6")} | {batch} | {cached:F2} | {once:F3} | {openClip:F3} | {cached / openClip:F1}× (vs image K/V once: {cached / once:F1}×) |");
            }
        return 0;
    }

    private enum Mode { Cached, ImageOnce, OpenClip }

    private static double Measure(CoCaCaptionDecoder decoder, float[] tokens, int batch, CaptionGenerationOptions options, Mode mode)
    {
        var sw = Stopwatch.StartNew();
        using ICaptionLogitsSource source = mode switch
        {
            Mode.Cached => new CachedLogitsSource(decoder, tokens, batch),
            Mode.ImageOnce => new RecomputingLogitsSource(decoder, tokens, batch, recomputeImageSide: false),
            _ => new RecomputingLogitsSource(decoder, tokens, batch, recomputeImageSide: true),
        };
        var ids = options.Decoding == CaptionDecoding.BeamSearch
            ? CaptionSearch.Beam(source, batch, options, decoder.VocabularySize)
            : CaptionSearch.Sample(source, batch, options, decoder.VocabularySize, 0);
        double seconds = sw.Elapsed.TotalSeconds;
        if (ids.Any(row => row.Length != options.MaxTokens))
            throw new InvalidOperationException($"A caption has {ids.Min(r => r.Length)} tokens, not {options.MaxTokens}: the runs would not do equal work.");
        return batch / seconds;
    }
}

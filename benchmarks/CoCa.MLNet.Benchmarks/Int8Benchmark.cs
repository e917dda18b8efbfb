using CoCa.MLNet.Demo;
using CoCa.MLNet.Scoring;
using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Runtime;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// fp32 vs int8 (<c>coca convert --precision int8</c>) vision towers of a random-weight model (default coca_ViT-B-32,
/// 224²): images/s of ONNX Runtime on the same preprocessed batches (all cores; rounds interleaved, best round kept),
/// and per-image cosine similarity of int8 to fp32 tokens and embeddings.
/// Options: --images N (default 64), --rounds R (default 3), --model coca_ViT-B-32.
/// </summary>
internal static class Int8Benchmark
{
    public static int Run(string[] args)
    {
        int count = IntArg(args, "--images", 64), rounds = IntArg(args, "--rounds", 3);
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        const int batch = 32;
        var work = Directory.CreateTempSubdirectory("coca-bench-int8-");
        try
        {
            var config = CoCaConfigs.Get(name);
            Console.WriteLine($"machine: {MachineInfo.Describe()}");
            Console.WriteLine($"model: {name} (random weights), {count} images 320x240 PNG, batch {batch}, {CpuBudget.AvailableCores} intra-op threads");
            var weights = RandomCoCaCheckpoint.Create(config, seed: 0, includeText: false);
            var fp32Dir = CoCaConverter.Convert(weights, config, Path.Combine(work.FullName, "fp32")).Directory;
            var int8Dir = CoCaConverter.Convert(weights, config, Path.Combine(work.FullName, "int8"), precision: VisionPrecision.Int8).Directory;
            Console.WriteLine($"vision.onnx: fp32 {new FileInfo(Path.Combine(fp32Dir, ConvertedModel.VisionFile)).Length / 1048576.0:F0} MiB, int8 {new FileInfo(Path.Combine(int8Dir, ConvertedModel.VisionFile)).Length / 1048576.0:F0} MiB");
            var files = SyntheticImageDataset.Generate(Path.Combine(work.FullName, "images"), classCount: 4, perClass: (count + 3) / 4, width: 320, height: 240)
                .Take(count).Select(f => f.Path).ToArray();
            var pixels = Preprocess(config, files);

            using var fp32 = CoCaImageFeatureExtractor.Open(fp32Dir);
            using var int8 = CoCaImageFeatureExtractor.Open(int8Dir);
            double Rate(CoCaImageFeatureExtractor e)
            {
                e.Encoder.Run(pixels, batch, tokens: true, embeddings: true); // warm-up
                var sw = Stopwatch.StartNew();
                for (int start = 0; start < count; start += batch)
                    e.Encoder.Run(pixels.AsMemory(start * e.Encoder.PixelsPerImage), Math.Min(batch, count - start), tokens: true, embeddings: true);
                return count / sw.Elapsed.TotalSeconds;
            }
            double fpRate = 0, qRate = 0;
            for (int round = 1; round <= rounds; round++)
            {
                fpRate = Math.Max(fpRate, Rate(fp32));
                qRate = Math.Max(qRate, Rate(int8));
                Console.WriteLine($"round {round}: fp32 {fpRate:F1}, int8 {qRate:F1} images/s (best so far); load {File.ReadAllText("/proc/loadavg").Trim()}");
            }

            var (ft, fe) = fp32.Encoder.Run(pixels, count, tokens: true, embeddings: true);
            var (qt, qe) = int8.Encoder.Run(pixels, count, tokens: true, embeddings: true);
            int tokenLen = config.Vision.TokenCount * config.Vision.Width, embed = config.EmbedDim;
            var tokenCos = Enumerable.Range(0, count).Select(i => EmbeddingMath.Cosine(qt!.AsSpan(i * tokenLen, tokenLen), ft!.AsSpan(i * tokenLen, tokenLen))).ToArray();
            var embCos = Enumerable.Range(0, count).Select(i => EmbeddingMath.Cosine(qe!.AsSpan(i * embed, embed), fe!.AsSpan(i * embed, embed))).ToArray();

            Console.WriteLine();
            Console.WriteLine("| vision tower | images/s | speed-up | tokens cosine vs fp32 (min / mean) | embedding cosine vs fp32 (min / mean) |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            Console.WriteLine($"| fp32 (default) | {fpRate:F1} | 1.00× | 1 | 1 |");
            Console.WriteLine($"| int8 (`--precision int8`) | {qRate:F1} | {qRate / fpRate:F2}× | {tokenCos.Min():F4} / {tokenCos.Average():F4} | {embCos.Min():F4} / {embCos.Average():F4} |");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}

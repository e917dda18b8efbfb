using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Training.Modules;
using TorchSharp;

namespace CoCa.MLNet.Benchmarks;

/// <summary>The libtorch eager peer: the TorchSharp vision tower on the same preprocessed batches.</summary>
internal static class TorchEagerPeer
{
    public static double ImagesPerSecond(CoCaModelConfig config, StateDict weights, string modelDir, string[] files, int batch)
    {
        var pixels = FeaturizerBenchmark.Preprocess(config, files);
        using var model = CoCaVisionModel.FromStateDict(config, weights);
        int s = config.Vision.ImageSize, per = 3 * s * s;
        void RunBatch(int start)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            int n = Math.Min(batch, files.Length - start);
            var input = torch.tensor(pixels.AsSpan(start * per, n * per).ToArray(), [n, 3, s, s]);
            var (tokens, _) = model.forward(input);
            _ = tokens.sum().item<float>();
        }
        RunBatch(0); // warm-up
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < files.Length; start += batch) RunBatch(start);
        return files.Length / sw.Elapsed.TotalSeconds;
    }
}

using System.Diagnostics;
using CoCa.MLNet.Training;
using TorchSharp;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;
using static TorchSharp.torch;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Where a bf16 training step's time goes: forward + backward of each kind of operation the CoCa blocks run, at
/// <c>coca_ViT-B-32</c>'s shapes (batch 32), in fp32 and through <see cref="MixedPrecision"/> in bf16, and their ratio.
/// A ratio below 1 names the kernels that keep bf16 from reaching its goal on this CPU.
/// Options: --batch 32, --repeats 3.
/// </summary>
internal static class PrecisionOpsBenchmark
{
    public static int Run(string[] args)
    {
        int batch = IntArg(args, "--batch", 32);
        int repeats = IntArg(args, "--repeats", 3);
        Console.WriteLine($"machine: {MachineInfo.Describe()}; CPU bfloat16 instructions (AVX-512 BF16 / AMX): {(BFloat16Support.IsSupported(torch.CPU) ? "yes" : "no")}; libtorch threads {torch.get_num_threads()}");
        using var generator = new Generator(0);
        Tensor Leaf(params long[] shape) => torch.randn(shape, generator: generator).requires_grad_();
        Tensor CausalMask(long length)
        {
            using var future = torch.ones(length, length, dtype: ScalarType.Bool).triu(1);
            using var negativeInfinity = float.NegativeInfinity.ToScalar();
            using var zeros = torch.zeros(batch, 1, length, length);
            return zeros.masked_fill(future, negativeInfinity);
        }
        // Inputs are made once per case (outside the timing); each run times the operation's forward and backward.
        var cases = new (string Name, Func<Tensor[]> Inputs, Func<Tensor[], Tensor> Forward)[]
        {
            ("vision MLP c_fc: linear [32·50, 768] → 3072", () => [Leaf(batch * 50, 768), Leaf(3072, 768), Leaf(3072)], t => MixedPrecision.Linear(t[0], t[1], t[2])),
            ("text MLP c_fc: linear [32·77, 512] → 2048", () => [Leaf(batch * 77, 512), Leaf(2048, 512), Leaf(2048)], t => MixedPrecision.Linear(t[0], t[1], t[2])),
            ("decoder logits: [32·75, 512] @ [512, 49408]", () => [Leaf(batch * 75, 512), Leaf(512, 49408)], t => MixedPrecision.MatMul(t[0], t[1])),
            ("vision attention: 12 heads × 50 tokens, no mask", () => [Leaf(batch, 12, 50, 64), Leaf(batch, 12, 50, 64), Leaf(batch, 12, 50, 64)], t => MixedPrecision.Attention(t[0], t[1], t[2], null)),
            ("text attention: 8 heads × 77 tokens, [N,1,L,L] mask", () => [Leaf(batch, 8, 77, 64), Leaf(batch, 8, 77, 64), Leaf(batch, 8, 77, 64), CausalMask(77)], t => MixedPrecision.Attention(t[0], t[1], t[2], t[3])),
            ("patch embedding: conv 32×32 stride 32, 224² → 768", () => [Leaf(batch, 3, 224, 224), Leaf(768, 3, 32, 32)], t => MixedPrecision.Conv2d(t[0], t[1], 32)),
            ("vision MLP c_proj after GELU: [32·50, 3072] → 768", () => [Leaf(batch * 50, 768), Leaf(3072, 768), Leaf(768, 3072)], t => MixedPrecision.Linear(nn.functional.gelu(MixedPrecision.Linear(t[0], t[1], null)), t[2], null)),
        };
        Console.WriteLine();
        Console.WriteLine("| operation (forward + backward) | fp32 | bf16 | bf16 speed-up |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var (name, makeInputs, forward) in cases)
        {
            var inputs = makeInputs();
            double Time(TrainingPrecision precision)
            {
                var seconds = new List<double>();
                for (int r = 0; r <= repeats; r++)
                {
                    foreach (var t in inputs) t.grad = null;
                    using var scope = NewDisposeScope();
                    var sw = Stopwatch.StartNew();
                    Tensor y;
                    using (MixedPrecision.Enter(precision)) y = forward(inputs);
                    y.sum().backward();
                    if (r > 0) seconds.Add(sw.Elapsed.TotalSeconds);   // the first run warms up
                }
                return seconds.Min();
            }
            double fp32 = Time(TrainingPrecision.Float32), bf16 = Time(TrainingPrecision.BFloat16);
            Console.WriteLine($"| {name} | {fp32 * 1000:F1} ms | {bf16 * 1000:F1} ms | {fp32 / bf16:F2}× |");
            foreach (var t in inputs) t.Dispose();
        }
        return 0;
    }
}

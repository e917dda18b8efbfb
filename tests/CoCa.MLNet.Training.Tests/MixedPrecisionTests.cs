using System.Reflection;
using static CoCa.MLNet.Tests.Shared.SafetensorsHeader;
using Microsoft.ML;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests;

/// <summary>
/// bfloat16 mixed precision: the towers' matrix products run in bfloat16 while weights, gradients, losses and the saved
/// model stay float32; the loss moves by bfloat16 rounding only; a device without bfloat16 trains in float32 after one line.
/// </summary>
public sealed class MixedPrecisionTests(ITestOutputHelper output)
{
    // bfloat16 keeps 8 significant bits: each product's operands are rounded by up to 2⁻⁹ ≈ 0.2 % (relative), and
    // float32 accumulation keeps the sums exact otherwise. Through the tiny CoCa's 5 transformer blocks the errors
    // partly cancel; the loss (a mean over the batch and tokens) moves by ~0.1 % here. 1 % leaves room for other seeds
    // while a product left in float32 (differences of exactly 0) or a wrongly cast one (an op in bfloat16 that should
    // not be: softmax or LayerNorm over 49,408 logits, several %) would fail.
    private const double LossTolerance = 0.01;

    [Fact]
    public void BFloat16Step_LossCloseToFloat32_OutputsWeightsAndGradientsFloat32()
    {
        using var model = ActivationCheckpointTests.TinyModel(out var pixels, out var ids);
        using var objective = new CoCaObjective();
        using var scope = NewDisposeScope();

        var fp32 = model.forward(pixels, ids);
        var fp32Loss = objective.Compute(fp32.ImageEmbedding, fp32.TextEmbedding, fp32.Logits, ids, fp32.LogitScale);
        fp32Loss.Total.backward();
        var fp32Grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        foreach (var p in model.parameters()) p.grad = null;

        CoCaForward bf16;
        using (MixedPrecision.Enter(TrainingPrecision.BFloat16)) bf16 = model.forward(pixels, ids);
        var bf16Loss = objective.Compute(bf16.ImageEmbedding, bf16.TextEmbedding, bf16.Logits, ids, bf16.LogitScale);
        bf16Loss.Total.backward();

        // Each tower's output changed by bfloat16 rounding (it ran in bfloat16), and comes back as float32.
        foreach (var (name, a, b) in new[] { ("image embedding", fp32.ImageEmbedding, bf16.ImageEmbedding), ("text embedding", fp32.TextEmbedding, bf16.TextEmbedding), ("decoder logits", fp32.Logits, bf16.Logits) })
        {
            Assert.Equal(ScalarType.Float32, b.dtype);
            double d = ActivationCheckpointTests.MaxRelativeDifference(a, b);
            output.WriteLine($"{name}: bf16 vs fp32 max relative difference {d:E2}");
            Assert.InRange(d, 1e-5, 0.05);
        }
        double lossDifference = Math.Abs(bf16Loss.Total.item<float>() - fp32Loss.Total.item<float>()) / fp32Loss.Total.item<float>();
        output.WriteLine($"loss fp32 {fp32Loss.Total.item<float>():F6}, bf16 {bf16Loss.Total.item<float>():F6} (relative {lossDifference:E2})");
        Assert.True(lossDifference <= LossTolerance, $"bf16 loss differs from fp32's by {lossDifference:P2}");
        Assert.True(lossDifference > 0, "the bf16 loss equals the fp32 loss bit for bit: nothing ran in bfloat16");

        // Master weights and their gradients stay float32, and the gradients point the same way as fp32's.
        double worstCosine = 1;
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            if (fp32Grads[name].norm().item<float>() < 1e-6) continue;
            double cosine = nn.functional.cosine_similarity(fp32Grads[name].flatten(), p.grad.flatten(), dim: 0).item<float>();
            worstCosine = Math.Min(worstCosine, cosine);
        }
        output.WriteLine($"lowest cosine similarity of a parameter's bf16 and fp32 gradients: {worstCosine:F4}");
        Assert.True(worstCosine > 0.95, $"a parameter's bf16 gradient has cosine similarity {worstCosine:F4} with its fp32 gradient");
    }

    [Fact]
    public void TrainersBFloat16Step_FusedCaptionLoss_MatchesAutogradsBFloat16Step()
    {
        // The trainers' step (the caption loss made a few rows at a time with its gradients) against autograd over the
        // whole logits, both in bf16: the same products in the same precision, so the same loss and gradients up to
        // bf16 rounding of the chunked products.
        using var model = ActivationCheckpointTests.TinyModel(out var pixels, out var ids);
        using var objective = new CoCaObjective();
        Dictionary<string, Tensor> autograd;
        using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
            autograd = ActivationCheckpointTests.Gradients(model, objective, pixels, ids, steps: 1);
        foreach (var p in model.parameters()) p.grad = null;
        double autogradLoss, fusedLoss;
        using (var scope = NewDisposeScope())
        {
            using (torch.no_grad())
            using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
            {
                var f = model.forward(pixels, ids);
                autogradLoss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale).Total.item<float>();
            }
            var loss = CoCaFineTuner.StepLoss(model, objective, pixels, ids, TrainingPrecision.BFloat16);
            fusedLoss = loss.Total.item<float>();
            loss.Total.backward();
            CustomAutogradNodes.Release();
        }
        Assert.True(Math.Abs(fusedLoss - autogradLoss) <= 1e-5 * Math.Abs(autogradLoss), $"bf16 fused loss {fusedLoss} vs autograd's {autogradLoss}");
        foreach (var (name, grad) in autograd)
        {
            var fused = model.named_parameters().Single(p => p.name == name).parameter.grad!;
            Assert.Equal(ScalarType.Float32, fused.dtype);
            double cosine = nn.functional.cosine_similarity(grad.flatten(), fused.flatten(), 0).item<float>();
            Assert.True(cosine > 0.999, $"bf16 gradient of {name}: fused and autograd's have cosine similarity {cosine:F5}");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void BFloat16Linear_OutputAndGradientsEqualAutogradsBFloat16Linear(ScalarType inputType)
    {
        // The node that casts the fp32 weight again in the backward pass (instead of keeping its bf16 copy) computes
        // what autograd computes through the casts: the same bf16 output, gradients in each input's dtype, equal up to
        // the summation order of the bf16 products (one bf16 rounding step).
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var x = torch.randn([3, 5, 16], generator: generator).to(inputType).requires_grad_();
        var weight = torch.randn([24, 16], generator: generator).requires_grad_();
        var bias = torch.randn([24], generator: generator).requires_grad_();
        var upstream = torch.randn([3, 5, 24], generator: generator);

        var expected = nn.functional.linear(x.to(ScalarType.BFloat16), weight.to(ScalarType.BFloat16), bias.to(ScalarType.BFloat16));
        expected.to(ScalarType.Float32).mul(upstream).sum().backward();
        var (gx, gw, gb) = (x.grad!.clone(), weight.grad!.clone(), bias.grad!.clone());
        foreach (var t in new[] { x, weight, bias }) t.grad = null;

        Tensor actual;
        using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
            actual = MixedPrecision.Linear(x, weight, bias);
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        Assert.Equal(expected.data<BFloat16>().ToArray(), actual.data<BFloat16>().ToArray());
        actual.to(ScalarType.Float32).mul(upstream).sum().backward();
        CustomAutogradNodes.Release();
        Assert.Equal(inputType, x.grad!.dtype);
        Assert.Equal(ScalarType.Float32, weight.grad!.dtype);
        Assert.Equal(ScalarType.Float32, bias.grad!.dtype);
        foreach (var (name, want, got) in new[] { ("input", gx, x.grad!), ("weight", gw, weight.grad!), ("bias", gb, bias.grad!) })
        {
            double d = ActivationCheckpointTests.MaxRelativeDifference(want.to(ScalarType.Float32), got.to(ScalarType.Float32));
            Assert.True(d <= 1e-2, $"{name} gradient ({inputType} input): {d:E2} from autograd's (relative)");
        }
    }

    [Fact]
    public void SharedBFloat16Copy_KeysAndValuesLayers_GiveTheSameOutputsAndGradientsAsACopyEach()
    {
        // Cross-attention's key and value layers read one context: in a bf16 step they keep one shared bf16 copy of it
        // for their weight gradients instead of one each. Same casts, same products: bit-equal outputs and gradients,
        // the context's gradient still summed in fp32, and each node frees only its own handle of the copy.
        using var scope = NewDisposeScope();
        using var generator = new Generator(12);
        var context = torch.randn([2, 7, 16], generator: generator).requires_grad_();
        var wk = torch.randn([16, 16], generator: generator).requires_grad_();
        var wv = torch.randn([16, 16], generator: generator).requires_grad_();
        var b = torch.randn([16], generator: generator).requires_grad_();
        var (uk, uv) = (torch.randn([2, 7, 16], generator: generator), torch.randn([2, 7, 16], generator: generator));
        (Tensor K, Tensor V, Tensor[] Gradients) Run(bool share)
        {
            foreach (var t in new[] { context, wk, wv, b }) t.grad = null;
            Tensor k, v;
            using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
            {
                var low = share ? MixedPrecision.SharedLowCopy(context) : null;
                Assert.Equal(share, low is not null);
                k = MixedPrecision.Linear(context, wk, b, low);
                v = MixedPrecision.Linear(context, wv, b, low);
                low?.Dispose();   // the caller's handle: the nodes keep their own
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            k.to(ScalarType.Float32).mul(uk).add(v.to(ScalarType.Float32).mul(uv), TorchScalars.One).sum().backward();
            CustomAutogradNodes.Release();
            return (k, v, [context.grad!.clone(), wk.grad!.clone(), wv.grad!.clone(), b.grad!.clone()]);
        }
        var own = Run(share: false);
        var shared = Run(share: true);
        Assert.Equal(own.K.data<BFloat16>().ToArray(), shared.K.data<BFloat16>().ToArray());
        Assert.Equal(own.V.data<BFloat16>().ToArray(), shared.V.data<BFloat16>().ToArray());
        Assert.Equal(ScalarType.Float32, shared.Gradients[0].dtype);
        foreach (var (name, i) in new[] { ("context", 0), ("key weight", 1), ("value weight", 2), ("bias", 3) })
            Assert.True(own.Gradients[i].equal(shared.Gradients[i]).all().item<bool>(), $"{name} gradient differs with the shared bf16 copy");
        using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
        {
            // Nothing needs a gradient (a frozen layer in a training step): the plain product uses the shared copy too.
            var (frozenContext, frozenWeight) = (context.detach(), wk.detach());
            var low = MixedPrecision.SharedLowCopy(frozenContext);
            Assert.NotNull(low);
            Assert.Equal(MixedPrecision.Linear(frozenContext, frozenWeight, null).data<BFloat16>().ToArray(),
                MixedPrecision.Linear(frozenContext, frozenWeight, null, low).data<BFloat16>().ToArray());
        }
        using (MixedPrecision.Enter(TrainingPrecision.Float32))
            Assert.Null(MixedPrecision.SharedLowCopy(context));   // fp32: nothing to share
        using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
        using (torch.no_grad())
            Assert.Null(MixedPrecision.SharedLowCopy(context));   // inference keeps nothing for a backward pass
    }

    [Fact]
    public void CheckpointedBFloat16Step_RecomputesInBFloat16()
    {
        // The backward pass recomputes each block at the precision of its forward pass (outside the caller's scope).
        using var model = ActivationCheckpointTests.TinyModel(out var pixels, out var ids);
        using var objective = new CoCaObjective();
        Dictionary<string, Tensor> Bf16Gradients()
        {
            using (MixedPrecision.Enter(TrainingPrecision.BFloat16))
                return ActivationCheckpointTests.Gradients(model, objective, pixels, ids, steps: 1);
        }
        var plain = Bf16Gradients();
        model.CheckpointActivations = true;
        var checkpointed = Bf16Gradients();
        foreach (var (name, grad) in plain)
        {
            double d = ActivationCheckpointTests.MaxRelativeDifference(grad, checkpointed[name]);
            Assert.True(d <= 1e-6, $"bf16 gradient of {name}: checkpointed differs from plain by {d:E2} (relative)");
        }
    }

    [Fact]
    public void EveryMatrixProductOfTheTrainedModules_GoesThroughMixedPrecision()
    {
        // A matrix product called directly would stay float32 under --precision bf16: the towers, the decoder, the
        // frozen trainer's pooler and the fine-tuned classifier call MixedPrecision for each of them.
        var assembly = typeof(CoCaModel).Assembly;
        var modules = assembly.GetTypes().Where(t => t.Namespace == typeof(CoCaModel).Namespace
            || t == typeof(AttentionalPoolerModule) || t == typeof(FineTunedCoCaModule)
            || t.DeclaringType is { } outer && (outer.Namespace == typeof(CoCaModel).Namespace || outer == typeof(AttentionalPoolerModule) || outer == typeof(FineTunedCoCaModule)));
        var offenders = DirectMatrixProducts(modules).ToList();
        Assert.True(offenders.Count == 0, "Matrix products that bypass MixedPrecision (call MixedPrecision.Linear/MatMul/Bmm/Conv2d/Attention):\n" + string.Join("\n", offenders));
        // The scan sees what it forbids: the helper's own products, and a layer called directly.
        Assert.Contains(DirectMatrixProducts([typeof(MixedPrecision)]), o => o.Contains("scaled_dot_product_attention", StringComparison.Ordinal));
        Assert.Contains(DirectMatrixProducts([typeof(DirectLayer)]), o => o.Contains("uses a Linear/Conv2d layer directly", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_BFloat16WithoutSupport_OneLineAndFloat32()
    {
        var lines = new List<string>();
        Assert.Equal(TrainingPrecision.Float32, BFloat16Support.Resolve(TrainingPrecision.BFloat16, torch.CPU, lines.Add, probe: _ => false));
        var line = Assert.Single(lines, l => l.Contains("bf16", StringComparison.Ordinal));   // beside the run's own description
        Assert.Contains("bf16", line, StringComparison.Ordinal);
        Assert.Contains("training in fp32", line, StringComparison.Ordinal);

        lines.Clear();
        Assert.Equal(TrainingPrecision.BFloat16, BFloat16Support.Resolve(TrainingPrecision.BFloat16, torch.CPU, lines.Add, probe: _ => true));
        Assert.Equal(TrainingPrecision.Float32, BFloat16Support.Resolve(TrainingPrecision.Float32, torch.CPU, lines.Add, probe: _ => throw new InvalidOperationException("fp32 needs no probe")));
        Assert.Empty(lines);
    }

    [Fact]
    public void CpuSupport_AgreesWithTheKernelsCpuFlags()
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.Intrinsics.X86.X86Base.IsSupported) return;   // the flags below are Linux x86's
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool expected = flags.Contains("avx512_bf16") || flags.Contains("amx_bf16");
        output.WriteLine($"/proc/cpuinfo: avx512_bf16 {flags.Contains("avx512_bf16")}, amx_bf16 {flags.Contains("amx_bf16")}");
        Assert.Equal(expected, BFloat16Support.IsSupported(torch.CPU));
    }

    [Fact]
    public void BadPrecisionValue_IsRejectedNamingTheOption()
    {
        var fineTune = new CoCaFineTuneOptions { Checkpoint = "c", VocabularyPath = "v", OutputDirectory = "o", Precision = (TrainingPrecision)7 };
        Assert.Contains("Precision", Assert.Throws<ArgumentOutOfRangeException>(fineTune.Validate).Message, StringComparison.Ordinal);
        var classifier = new FineTunedCoCaOptions { Checkpoint = "c", Precision = (TrainingPrecision)7 };
        Assert.Contains("FineTunedCoCaOptions.Precision", Assert.Throws<ArgumentOutOfRangeException>(classifier.Validate).Message, StringComparison.Ordinal);
        var ml = new MLContext();
        var pooler = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { Precision = (TrainingPrecision)7 }));
        Assert.Contains("AttentionalPoolerOptions.Precision", pooler.Message, StringComparison.Ordinal);
    }

    // ---- through the fine-tuner (needs the CLIP vocabulary fixture) ----------------------------------------------

    [FixtureFact]
    public void FineTuner_BFloat16WithoutSupport_SaysOneLine_AndTrainsExactlyAsFloat32()
    {
        using var dir = new TempFolder();
        var csv = TinyPairs.WriteCsv(dir.Path, classes: 2, perClass: 4);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(dir.Path);
        var pairs = ImageCaptionPairs.Read(csv);
        CoCaFineTuner.Train(TinyPairs.Options(scratch, Path.Combine(dir.Path, "fp32"), epochs: 1), pairs);
        var lines = new List<string>();
        var options = TinyPairs.Options(scratch, Path.Combine(dir.Path, "bf16"), epochs: 1);
        CoCaFineTuner.Train(With(options, TrainingPrecision.BFloat16, checkpoint: false, probe: _ => false, log: lines.Add), pairs);

        var line = Assert.Single(lines, l => l.Contains("bf16", StringComparison.Ordinal));   // beside the run's own description
        output.WriteLine(line);
        Assert.Contains("training in fp32", line, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "fp32", "open_clip_model.safetensors")), File.ReadAllBytes(Path.Combine(dir.Path, "bf16", "open_clip_model.safetensors")));
    }

    [FixtureFact]
    public void FineTuner_BFloat16AndCheckpointing_LossesTrackFloat32_SavesFloat32()
    {
        using var dir = new TempFolder();
        var csv = TinyPairs.WriteCsv(dir.Path, classes: 2, perClass: 6);
        var scratch = TinyPairs.ConfigOnlyCheckpoint(dir.Path);
        var pairs = ImageCaptionPairs.Read(csv);
        List<double> Losses(string name, TrainingPrecision precision, bool checkpoint)
        {
            var losses = new List<double>();
            var options = TinyPairs.Options(scratch, Path.Combine(dir.Path, name), progress: p => { if (!p.EndOfEpoch) losses.Add(p.TotalLoss); }, epochs: 3);
            CoCaFineTuner.Train(With(options, precision, checkpoint, probe: _ => true, log: l => { if (l.Contains("bf16", StringComparison.Ordinal)) throw new InvalidOperationException(l); }), pairs);
            return losses;
        }
        var fp32 = Losses("fp32", TrainingPrecision.Float32, checkpoint: false);
        var bf16 = Losses("bf16", TrainingPrecision.BFloat16, checkpoint: true);
        output.WriteLine("step losses fp32: " + string.Join(", ", fp32.Select(l => l.ToString("F4"))));
        output.WriteLine("step losses bf16: " + string.Join(", ", bf16.Select(l => l.ToString("F4"))));
        Assert.Equal(9, fp32.Count);
        Assert.Equal(fp32.Count, bf16.Count);
        for (int i = 0; i < fp32.Count; i++)
            Assert.True(Math.Abs(bf16[i] - fp32[i]) <= 0.02 * fp32[i], $"step {i + 1}: bf16 loss {bf16[i]:F4} vs fp32 {fp32[i]:F4} (more than 2 % apart)");
        Assert.NotEqual(fp32, bf16);

        var saved = Path.Combine(dir.Path, "bf16", "open_clip_model.safetensors");
        Assert.All(SafetensorsDtypes(saved), d => Assert.Equal("F32", d.Value));
        using var reloaded = Training.Checkpoints.CoCaCheckpointFolder.Load(Path.Combine(dir.Path, "bf16"));
        Assert.All(reloaded.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    private static CoCaFineTuneOptions With(CoCaFineTuneOptions o, TrainingPrecision precision, bool checkpoint, Func<Device, bool> probe, Action<string> log) => new()
    {
        Checkpoint = o.Checkpoint, VocabularyPath = o.VocabularyPath, OutputDirectory = o.OutputDirectory, Epochs = o.Epochs, BatchSize = o.BatchSize,
        LearningRate = o.LearningRate, WarmupFraction = o.WarmupFraction, Seed = o.Seed, ProgressEverySteps = o.ProgressEverySteps, Progress = o.Progress,
        Precision = precision, CheckpointActivations = checkpoint, BFloat16Probe = probe, Log = new InlineProgress<string>(log),
    };

    private static readonly HashSet<string> MatrixProducts = ["matmul", "mm", "bmm", "linear", "conv2d", "scaled_dot_product_attention", "einsum"];

    /// <summary>
    /// Calls of TorchSharp's matrix products, and uses of a Linear or Conv2d layer other than through
    /// <c>MixedPrecision.Linear(layer, x)</c> or its weight and bias (a layer field read more often than that is called).
    /// </summary>
    private static IEnumerable<string> DirectMatrixProducts(IEnumerable<Type> types)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        static bool IsLayer(Type t) => t == typeof(TorchSharp.Modules.Linear) || t == typeof(TorchSharp.Modules.Conv2d);
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(all))
            {
                int layerReads = 0, layerUses = 0;
                foreach (var member in IlReader.References(method))
                {
                    if (member is FieldInfo f && IsLayer(f.FieldType)) layerReads++;
                    if (member is not MethodBase callee) continue;
                    if (callee.Module.Assembly == typeof(torch).Assembly && MatrixProducts.Contains(callee.Name))
                        yield return $"{type.FullName}.{method.Name} calls {callee.DeclaringType?.Name}.{callee.Name}";
                    bool layerWeight = callee.Name is "get_weight" or "get_bias" && callee.DeclaringType is { } d
                        && (d.IsAssignableFrom(typeof(TorchSharp.Modules.Linear)) || d.IsAssignableFrom(typeof(TorchSharp.Modules.Conv2d)));
                    bool throughMixedPrecision = callee.DeclaringType == typeof(MixedPrecision) && callee.GetParameters().Any(p => IsLayer(p.ParameterType));
                    if (layerWeight || throughMixedPrecision) layerUses++;
                }
                if (layerReads > layerUses)
                    yield return $"{type.FullName}.{method.Name} uses a Linear/Conv2d layer directly ({layerReads} reads of layer fields, {layerUses} through MixedPrecision or weight/bias)";
            }
        }
    }

    /// <summary>What the scan must flag: a layer called directly.</summary>
    private sealed class DirectLayer : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear layer = nn.Linear(2, 2);

        public DirectLayer() : base(nameof(DirectLayer)) => RegisterComponents();

        public override Tensor forward(Tensor x) => layer.forward(x);
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("coca-precision-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

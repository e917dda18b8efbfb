using CoCa.MLNet.Pooling;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Training.Tests.FineTuning;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests;

/// <summary>
/// Activation checkpointing changes memory and time, never the numbers: a checkpointed step's gradients equal the plain
/// step's (≤ 1e-6 relative, fp32) for every parameter of the vision tower, text tower and decoder, accumulate into
/// <c>.grad</c> the same way, and reach blocks whose input needs no gradient (a classifier's trained blocks over frozen ones).
/// </summary>
public sealed class ActivationCheckpointTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    [Fact]
    public void CheckpointedBlock_RunsWithoutRecordingThenRecomputesInBackward()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var weight = torch.randn([6, 6], generator: generator).requires_grad_();
        var x = torch.randn([3, 6], generator: generator).requires_grad_();
        var gradModes = new List<bool>();
        Tensor Block(Tensor?[] inputs)
        {
            gradModes.Add(torch.is_grad_enabled());
            return nn.functional.gelu(inputs[0]!.matmul(weight)).matmul(weight);
        }

        Block([x]).sum().backward();
        var (plainX, plainW) = (x.grad!.clone(), weight.grad!.clone());
        x.grad!.zero_();
        weight.grad!.zero_();
        gradModes.Clear();

        var y = ActivationCheckpoint.Run(Block, [x], [weight]);
        Assert.True(y.requires_grad);
        Assert.Equal([false], gradModes);   // the forward pass records nothing inside the block
        y.sum().backward();
        CustomAutogradNodes.Release();
        Assert.Equal([false, true], gradModes);   // the backward pass ran it again, recording
        Assert.Equal(0, MaxRelativeDifference(plainX, x.grad!));
        Assert.Equal(0, MaxRelativeDifference(plainW, weight.grad!));
    }

    [Fact]
    public void WholeCoCa_CheckpointedGradientsEqualPlain_AndAccumulate()
    {
        using var model = TinyModel(out var pixels, out var ids);
        using var objective = new CoCaObjective();

        var plain = Gradients(model, objective, pixels, ids, steps: 1);
        model.CheckpointActivations = true;
        var checkpointed = Gradients(model, objective, pixels, ids, steps: 1);
        var accumulated = Gradients(model, objective, pixels, ids, steps: 2);   // two backward passes, no zeroing between

        Assert.Equal(model.named_parameters().Count(), plain.Count);
        Assert.Contains(plain.Keys, k => k.StartsWith("visual.transformer.resblocks.", StringComparison.Ordinal));
        Assert.Contains(plain.Keys, k => k.StartsWith("text.transformer.resblocks.", StringComparison.Ordinal));
        Assert.Contains(plain.Keys, k => k.StartsWith("text_decoder.cross_attn.", StringComparison.Ordinal));
        double worst = 0, worstAccumulated = 0;
        foreach (var (name, grad) in plain)
        {
            double d = MaxRelativeDifference(grad, checkpointed[name]);
            Assert.True(d <= Tolerance, $"gradient of {name}: checkpointed differs from plain by {d:E2} (relative)");
            using var twice = grad.mul(TwoScalar);
            double a = MaxRelativeDifference(twice, accumulated[name]);
            Assert.True(a <= Tolerance, $"gradient of {name} after two checkpointed backward passes: {a:E2} from twice the plain one");
            (worst, worstAccumulated) = (Math.Max(worst, d), Math.Max(worstAccumulated, a));
        }
        output.WriteLine($"{plain.Count} parameters: checkpointed vs plain {worst:E2}, accumulated vs 2×plain {worstAccumulated:E2} (max relative)");
        foreach (var g in plain.Values.Concat(checkpointed.Values).Concat(accumulated.Values)) g.Dispose();
    }

    [Fact]
    public void ClassifierBlocksOverFrozenLowerBlocks_CheckpointedGradientsEqualPlain()
    {
        // The top block's input comes from frozen blocks (no gradient): the trained block must still get its gradients.
        using var generator = new Generator(11);
        using var visual = CoCaVisionModel.FromStateDict(TinyCoCa.Config, RandomCoCaCheckpoint.Create(TinyCoCa.Config, 2, includeText: false));
        var shape = new TokenShape(1, TinyCoCa.Config.Vision.TokenCount, TinyCoCa.Config.Vision.Width);
        using var pooler = new AttentionalPoolerModule(new AttentionalPoolerConfig
        {
            Frames = 1, TokensPerFrame = shape.TokensPerFrame, Dim = shape.Dim, Heads = 2, Queries = 1, Classes = 3,
        }, generator: generator);
        using var model = new FineTunedCoCaModule(visual, pooler, frozenBlocks: 1);
        model.train();
        using var pixels = torch.randn([4, 3, 32, 32], generator: generator);
        using var labels = torch.tensor(new long[] { 0, 1, 2, 1 });

        Dictionary<string, Tensor> Step()
        {
            foreach (var p in model.parameters()) p.grad = null;
            using var scope = NewDisposeScope();
            Tensor lower;
            using (torch.no_grad()) lower = model.LowerBlocks(pixels);
            nn.functional.cross_entropy(model.FromLowerBlocks(lower), labels).backward();
            CustomAutogradNodes.Release();
            return model.named_parameters().Where(p => p.parameter.grad is not null)
                .ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        }

        var plain = Step();
        visual.CheckpointActivations = true;
        var checkpointed = Step();
        Assert.Contains(plain.Keys, k => k.Contains("transformer.resblocks.1.", StringComparison.Ordinal));
        Assert.DoesNotContain(plain.Keys, k => k.Contains("transformer.resblocks.0.", StringComparison.Ordinal));
        Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
        foreach (var (name, grad) in plain)
        {
            double d = MaxRelativeDifference(grad, checkpointed[name]);
            Assert.True(d <= Tolerance, $"gradient of {name}: checkpointed differs from plain by {d:E2} (relative)");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FusedCaptionLoss_EqualsAutogradsLossAndGradients(bool checkpointing)
    {
        using var model = TinyModel(out var pixels, out var ids);
        using var objective = new CoCaObjective();
        double plainLoss;
        using (torch.no_grad())
        using (var scope = NewDisposeScope())
        {
            var f = model.forward(pixels, ids);
            plainLoss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale).Total.item<float>();
        }
        var plain = Gradients(model, objective, pixels, ids, steps: 1);

        model.CheckpointActivations = checkpointing;
        foreach (var p in model.parameters()) p.grad = null;
        double fusedLoss;
        using (var scope = NewDisposeScope())
        {
            var (imageEmbedding, textEmbedding, hidden) = model.ForwardHidden(pixels, ids);
            // 3 MiB of logits per chunk: 15 rows of 49,408 tokens, so the batch's 4 × 11 positions take three chunks.
            var loss = objective.ComputeFromNormalizedHidden(imageEmbedding, textEmbedding, model.TextDecoder.FinalNorm(hidden), model.TextDecoder.VocabularyProjection,
                ids, model.LogitScale, chunkBytes: 3L << 20);
            fusedLoss = loss.Total.item<float>();
            // Scaled as gradient accumulation scales it: the loss node's gradients are scaled by what reaches it.
            loss.Total.mul(TwoScalar).backward();
            CustomAutogradNodes.Release();
        }
        Assert.True(Math.Abs(fusedLoss - plainLoss) <= 1e-6 * Math.Abs(plainLoss), $"fused loss {fusedLoss} vs autograd's {plainLoss}");
        // The vocabulary product of a few rows rounds differently from the whole batch's (BLAS blocks the two sizes
        // differently) and the gradient is scaled after the products rather than before: ~1e-6 of their size.
        const double fusedTolerance = 5e-6;
        double worst = 0;
        foreach (var (name, grad) in plain)
        {
            using var twice = grad.mul(TwoScalar);
            double d = MaxRelativeDifference(twice, model.named_parameters().Single(p => p.name == name).parameter.grad!);
            Assert.True(d <= fusedTolerance, $"gradient of {name}: fused{(checkpointing ? " and checkpointed" : "")} differs from autograd's by {d:E2} (relative)");
            worst = Math.Max(worst, d);
        }
        output.WriteLine($"fused caption loss{(checkpointing ? ", checkpointed" : "")}: loss {fusedLoss} vs {plainLoss}, gradients within {worst:E2}");
        foreach (var g in plain.Values) g.Dispose();
    }

    [Fact]
    public void FusedCaptionLoss_IgnoresPadding_AndWithoutGradientsMakesNone()
    {
        // Rows 1 and 3 are padding: they add nothing to the loss and get a zero gradient; the others match autograd's
        // cross-entropy (sum) over the same logits.
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var y = torch.randn([4, 6], generator: generator).requires_grad_();
        var weight = torch.randn([6, 9], generator: generator).requires_grad_();
        var labels = torch.tensor(new long[] { 3, 0, 8, 0 });
        var expected = nn.functional.cross_entropy(y.matmul(weight), labels, ignore_index: 0, reduction: nn.Reduction.Sum);
        expected.backward();
        var (expectedY, expectedW) = (y.grad!.clone(), weight.grad!.clone());
        y.grad = null;
        weight.grad = null;

        var fused = VocabularyCrossEntropy.Sum(y, weight, labels, ignoreIndex: 0, chunkBytes: 2 * 9 * sizeof(float));   // two rows a chunk
        Assert.Equal(expected.item<float>(), fused.item<float>(), 5);
        fused.backward();
        CustomAutogradNodes.Release();
        Assert.True(MaxRelativeDifference(expectedY, y.grad!) <= 1e-6);
        Assert.True(MaxRelativeDifference(expectedW, weight.grad!) <= 1e-6);
        Assert.All(y.grad!.select(0, 1).data<float>().ToArray(), g => Assert.Equal(0f, g));

        using (torch.no_grad())
            Assert.False(VocabularyCrossEntropy.Sum(y, weight, labels, ignoreIndex: 0).requires_grad);
    }

    private static readonly Scalar TwoScalar = 2.ToScalar();

    /// <summary>A random tiny CoCa (12-token context) and a batch whose captions end in padding (the cls mask's case).</summary>
    internal static CoCaModel TinyModel(out Tensor pixels, out Tensor ids)
    {
        var model = new CoCaModel(TinyPairs.Config);
        CoCaInitializer.Initialize(model, 1);
        model.train();
        using var generator = new Generator(3);
        pixels = torch.randn([4, 3, 32, 32], generator: generator);
        ids = torch.randint(1, 1000, [4, 12], generator: generator, dtype: ScalarType.Int64);
        using (torch.no_grad()) ids.narrow(1, 8, 4).zero_();   // pad id 0 after 8 tokens
        return model;
    }

    /// <summary>Every parameter's gradient after <paramref name="steps"/> backward passes of the CoCa loss from zero gradients.</summary>
    internal static Dictionary<string, Tensor> Gradients(CoCaModel model, CoCaObjective objective, Tensor pixels, Tensor ids, int steps)
    {
        foreach (var p in model.parameters()) p.grad = null;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var f = model.forward(pixels, ids);
            objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale).Total.backward();
            CustomAutogradNodes.Release();
        }
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
    }

    /// <summary>max |a − b| / max |a|.</summary>
    internal static double MaxRelativeDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        double scale = a.abs().max().item<float>();
        double diff = a.sub(b).abs().max().item<float>();
        return scale == 0 ? diff : diff / scale;
    }
}

using CoCa.MLNet.Cli.Features;
using System.Text.Json;
using CoCa.MLNet.IO;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static CoCa.MLNet.Tests.Shared.CaptionFixture;

namespace CoCa.MLNet.Training.Tests.FineTuning;

/// <summary>CoCa's training loss and its gradients against open_clip's (ref_loss.json, ref_grads/*.npy).</summary>
public sealed class CoCaObjectiveTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <param name="trainersForm">The trainers' step (the caption loss made a few rows at a time with its gradients,
    /// <see cref="CoCaFineTuner.StepLoss"/>) instead of autograd over the whole logits (the evaluator's form).</param>
    [CaptionFixtureTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void LossAndGradients_MatchOpenClip(bool trainersForm)
    {
        using var model = Load(Folder);
        using var objective = new CoCaObjective();
        using var scope = NewDisposeScope();
        var loss = trainersForm
            ? CoCaFineTuner.StepLoss(model, objective, Pixels(Folder, model.Config), TextIds(Folder), TrainingPrecision.Float32)
            : Loss(model, objective);
        loss.Total.backward();
        CustomAutogradNodes.Release();

        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File(Folder, "ref_loss.json")));
        var root = doc.RootElement;
        AssertClose(root.GetProperty("contrastive").GetDouble(), loss.Contrastive.item<float>(), "contrastive loss");
        AssertClose(root.GetProperty("caption").GetDouble(), loss.Caption.item<float>(), "caption loss");
        AssertClose(root.GetProperty("total").GetDouble(), loss.Total.item<float>(), "total loss");

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var norms = root.GetProperty("grad_norms").EnumerateObject().ToList();
        Assert.Equal(norms.Select(n => n.Name).Order(StringComparer.Ordinal), parameters.Keys.Order(StringComparer.Ordinal));
        // A few gradients are zero up to float rounding (the decoder's cross-attention query norms: ~5e-8 against a
        // largest norm of ~52); their norms are compared relative to 1e-6 of the largest norm instead of themselves.
        double floor = 1e-6 * norms.Max(n => n.Value.GetDouble());
        double worst = 0;
        foreach (var norm in norms)
        {
            var grad = parameters[norm.Name].grad ?? throw new Xunit.Sdk.XunitException($"{norm.Name} has no gradient");
            double actual = grad.norm().item<float>(), expected = norm.Value.GetDouble();
            double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), floor);
            worst = Math.Max(worst, err);
            Assert.True(err <= Tolerance, $"grad norm of {norm.Name}: {actual} vs open_clip {expected} (relative error {err:E3})");
        }
        output.WriteLine($"{norms.Count} gradient norms, worst relative error {worst:E3}");

        var gradFiles = Directory.GetFiles(File(Folder, "ref_grads"), "*.npy");
        Assert.Equal(9, gradFiles.Length);
        foreach (var path in gradFiles)
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var expected = Npy.ReadFloat32(path);
            var grad = parameters[name].grad!;
            Assert.Equal(expected.Shape, grad.shape);
            var err = Fixtures.RelativeError(Values(grad), expected.Data);
            output.WriteLine($"gradient of {name}: relative error {err:E3}");
            Assert.True(err <= Tolerance, $"gradient of {name}: relative error {err:E3} > {Tolerance:E1}");
        }
    }

    [FixtureFact]
    public void LossWeights_ScaleTheirTerms()
    {
        using var model = Load(Folder);
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        using var defaults = new CoCaObjective();
        using var weighted = new CoCaObjective(contrastiveWeight: 0.5, captionWeight: 3);
        var a = Loss(model, defaults);
        var b = Loss(model, weighted);
        Assert.Equal(a.Contrastive.item<float>(), b.Contrastive.item<float>());
        AssertClose(0.5 * a.Contrastive.item<float>() + 3 * a.Caption.item<float>(), b.Total.item<float>(), "weighted total");
    }

    [Fact]
    public void CaptionLoss_IgnoresPaddingAndShiftsLabels()
    {
        // Two positions: logits at 0 predict id 1, logits at 1 predict id 2 (pad, ignored) → only the first counts.
        using var objective = new CoCaObjective();
        using var scope = NewDisposeScope();
        var logits = torch.tensor(new float[] { 0, 2, 0, /* pos 1 */ 5, 0, 0 }, [1, 2, 3]);
        var ids = torch.tensor(new long[] { 1, 1, 0 }, [1, 3]);
        var expected = -Math.Log(Math.Exp(2) / (2 + Math.Exp(2)));
        AssertClose(expected, objective.Caption(logits, ids).item<float>(), "caption loss");
    }

    private static CoCaLoss Loss(CoCaModel model, CoCaObjective objective)
    {
        var ids = TextIds(Folder);
        var forward = model.forward(Pixels(Folder, model.Config), ids);
        return objective.Compute(forward.ImageEmbedding, forward.TextEmbedding, forward.Logits, ids, forward.LogitScale);
    }

    private void AssertClose(double expected, double actual, string what)
    {
        double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-12);
        output.WriteLine($"{what}: {actual} vs {expected} (relative error {err:E3})");
        Assert.True(err <= Tolerance, $"{what}: {actual} vs {expected} (relative error {err:E3})");
    }
}

using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Optimization;

/// <summary>The owned AdamW against torch.optim.AdamW (TorchSharp's) and a float64 reference, and its resumable state.</summary>
public class AdamWOptimizerTests
{
    private static readonly long[][] Shapes = [[3, 4], [4], [2, 3, 2], [5]];
    private static readonly int[][] GroupsOf = [[0, 2], [1], [3]];           // three groups …
    private static readonly double[] GroupDecay = [0.1, 0.0, 0.3];            // … and their weight decays

    private static Parameter[] MakeParameters(int seed)
    {
        var random = new Random(seed);
        return Shapes.Select(s => new Parameter(torch.tensor(Enumerable.Range(0, (int)s.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), s))).ToArray();
    }

    /// <summary>Gradient of step t for parameter i: a fixed pseudo-random direction plus the parameter itself (so the trajectory matters).</summary>
    private static float[] Gradient(float[] p, int step, int i)
    {
        var random = new Random(1000 * step + i);
        return p.Select(v => (float)(random.NextDouble() * 2 - 1) + 0.5f * v).ToArray();
    }

    private static void SetGradients(Parameter[] parameters, int step)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            var g = Gradient(parameters[i].detach().data<float>().ToArray(), step, i);
            parameters[i].grad = torch.tensor(g, parameters[i].shape);
        }
    }

    private static double LearningRateAt(int step) => 1e-2 * (step + 1) / 3.0 + 1e-3;

    private static IEnumerable<AdamWParameterGroup> Groups(Parameter[] p) =>
        GroupsOf.Select((members, g) => new AdamWParameterGroup(members.Select(i => p[i]), GroupDecay[g]));

    [Fact]
    public void UpdatesEqualTorchSharpAdamW_WithPerGroupWeightDecay()
    {
        var ours = MakeParameters(7);
        var theirs = MakeParameters(7);
        using var optimizer = new AdamWOptimizer(Groups(ours), beta1: 0.9, beta2: 0.99, eps: 1e-6);
        var groups = GroupsOf.Select((members, g) => new AdamW.ParamGroup(members.Select(i => theirs[i]), 1e-3, 0.9, 0.99, 1e-6, GroupDecay[g], false, false)).ToArray();
        using var reference = torch.optim.AdamW(groups, 1e-3);

        for (int step = 0; step < 8; step++)
        {
            SetGradients(ours, step);
            SetGradients(theirs, step);
            optimizer.LearningRate = LearningRateAt(step);
            foreach (var g in reference.ParamGroups) g.LearningRate = LearningRateAt(step);
            optimizer.Step();
            reference.step();
            for (int i = 0; i < ours.Length; i++)
            {
                var a = ours[i].detach().data<float>().ToArray();
                var b = theirs[i].detach().data<float>().ToArray();
                Assert.True(a.AsSpan().SequenceEqual(b), $"step {step + 1}, parameter {i}: [{string.Join(", ", a.Take(4))}] vs torch.optim.AdamW [{string.Join(", ", b.Take(4))}]");
            }
        }
        Assert.Equal(8, optimizer.StepCount);
    }

    [Fact]
    public void UpdatesEqualAFloat64AdamW_ToFloatTolerance()
    {
        const double beta1 = 0.8, beta2 = 0.95, eps = 1e-8;
        var ours = MakeParameters(11);
        using var optimizer = new AdamWOptimizer(Groups(ours), beta1, beta2, eps);
        var p = ours.Select(t => t.detach().data<float>().ToArray().Select(v => (double)v).ToArray()).ToArray();
        var m = p.Select(a => new double[a.Length]).ToArray();
        var v = p.Select(a => new double[a.Length]).ToArray();
        var decayOf = new double[ours.Length];
        for (int g = 0; g < GroupsOf.Length; g++) foreach (var i in GroupsOf[g]) decayOf[i] = GroupDecay[g];

        for (int step = 0; step < 10; step++)
        {
            double lr = LearningRateAt(step);
            int t = step + 1;
            for (int i = 0; i < ours.Length; i++)
            {
                // The float64 reference takes the same float32 gradient as the optimizer does.
                var g = Gradient(ours[i].detach().data<float>().ToArray(), step, i);
                ours[i].grad = torch.tensor(g, ours[i].shape);
                for (int k = 0; k < p[i].Length; k++)
                {
                    p[i][k] *= 1 - lr * decayOf[i];
                    m[i][k] = beta1 * m[i][k] + (1 - beta1) * g[k];
                    v[i][k] = beta2 * v[i][k] + (1 - beta2) * g[k] * g[k];
                    double mHat = m[i][k] / (1 - Math.Pow(beta1, t));
                    double denom = Math.Sqrt(v[i][k]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
                    p[i][k] -= lr * mHat / denom;
                }
            }
            optimizer.LearningRate = lr;
            optimizer.Step();
            for (int i = 0; i < ours.Length; i++)
            {
                var a = ours[i].detach().data<float>().ToArray();
                for (int k = 0; k < a.Length; k++)
                    Assert.True(Math.Abs(a[k] - p[i][k]) <= 1e-6 + 1e-5 * Math.Abs(p[i][k]), $"step {t}, parameter {i}[{k}]: {a[k]} vs float64 AdamW {p[i][k]}");
            }
            // Re-anchor the reference on the float32 parameters so the comparison measures one step's error, not drift.
            for (int i = 0; i < ours.Length; i++) p[i] = ours[i].detach().data<float>().ToArray().Select(x => (double)x).ToArray();
        }
    }

    [Fact]
    public void WeightDecayActsPerGroup()
    {
        var parameters = MakeParameters(3);
        var before = parameters.Select(p => p.detach().data<float>().ToArray()).ToArray();
        using var optimizer = new AdamWOptimizer([new AdamWParameterGroup([parameters[0]], 0.5), new AdamWParameterGroup([parameters[1]], 0.0)]) { LearningRate = 0.1 };
        // A zero gradient leaves Adam's own step at zero: what changes is the decay alone.
        parameters[0].grad = torch.zeros_like(parameters[0]);
        parameters[1].grad = torch.zeros_like(parameters[1]);
        optimizer.Step();
        var decayed = parameters[0].detach().data<float>().ToArray();
        for (int k = 0; k < decayed.Length; k++) Assert.Equal(before[0][k] * 0.95f, decayed[k], 6);
        Assert.Equal(before[1], parameters[1].detach().data<float>().ToArray());
    }

    [Fact]
    public void ExportedState_WrittenAsSafetensors_ResumesToTheSameTrajectory()
    {
        var straight = MakeParameters(5);
        var resumed = MakeParameters(5);
        var named = new[] { "a.weight", "a.bias", "b.weight", "b.bias" };
        IEnumerable<AdamWParameterGroup> NamedGroups(Parameter[] p) =>
            [new AdamWParameterGroup([(named[0], p[0]), (named[2], p[2])], 0.1), new AdamWParameterGroup([(named[1], p[1]), (named[3], p[3])], 0.0)];

        using var a = new AdamWOptimizer(NamedGroups(straight));
        using var first = new AdamWOptimizer(NamedGroups(resumed));
        for (int step = 0; step < 3; step++)
        {
            SetGradients(straight, step); a.LearningRate = LearningRateAt(step); a.Step();
            SetGradients(resumed, step); first.LearningRate = LearningRateAt(step); first.Step();
        }
        var state = first.ExportState();
        Assert.Contains(state, t => t.Name == "a.weight.exp_avg_sq" && t.HasShape(3, 4));
        var path = Path.Combine(Path.GetTempPath(), $"adamw-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsWriter.Write(path, state);
            using var second = new AdamWOptimizer(NamedGroups(resumed));
            second.ImportState(SafetensorsReader.Read(path));
            Assert.Equal(3, second.StepCount);
            for (int step = 3; step < 6; step++)
            {
                SetGradients(straight, step); a.LearningRate = LearningRateAt(step); a.Step();
                SetGradients(resumed, step); second.LearningRate = LearningRateAt(step); second.Step();
            }
        }
        finally { File.Delete(path); }
        for (int i = 0; i < straight.Length; i++)
            Assert.Equal(straight[i].detach().data<float>().ToArray(), resumed[i].detach().data<float>().ToArray());
    }

    [Fact]
    public void ImportState_RefusesStateOfOtherParameters_NamingTheEntry()
    {
        var p = MakeParameters(1);
        using var optimizer = new AdamWOptimizer(Groups(p));
        var state = optimizer.ExportState().ToDictionary(t => t.Name);
        var wrongShape = new Dictionary<string, CheckpointTensor>(state) { ["0.0.exp_avg"] = new CheckpointTensor("0.0.exp_avg", [12], new float[12]) };
        Assert.Contains("'0.0.exp_avg'", Assert.Throws<ArgumentException>(() => optimizer.ImportState(wrongShape)).Message);
        state.Remove("2.0.exp_avg_sq");
        Assert.Contains("2.0.exp_avg_sq", Assert.Throws<ArgumentException>(() => optimizer.ImportState(state)).Message);
        Assert.Throws<ArgumentException>(() => new AdamWOptimizer([new AdamWParameterGroup([p[0]], 0.1), new AdamWParameterGroup([p[0]], 0.0)]));
    }

    [Theory]
    [InlineData(1e300, 0.1)]   // a step size beyond float32
    [InlineData(1e-3, 1e300)]  // a weight decay factor beyond float32
    public void FactorsBeyondFloat32_GiveNonFiniteWeights_NotLibTorchsOverflowError(double learningRate, double weightDecay)
    {
        var p = MakeParameters(3);
        using var optimizer = new AdamWOptimizer([new AdamWParameterGroup(p, weightDecay)]) { LearningRate = learningRate };
        SetGradients(p, 0);
        optimizer.Step();   // threw "value cannot be converted to type float without overflow"
        Assert.Contains(p, t => t.detach().data<float>().ToArray().Any(v => !float.IsFinite(v)));
    }

    [Fact]
    public void ZeroGrad_DropsEveryGradient_TheNextBackwardStartsAfresh_AndStepSkipsWhatGotNone()
    {
        var p = MakeParameters(2);
        using var optimizer = new AdamWOptimizer(Groups(p));
        SetGradients(p, 0);
        optimizer.ZeroGrad();
        // Dropped, not zeroed (PyTorch's set_to_none): no float32 copy of the weights is held through the next forward pass.
        Assert.All(p, t => Assert.Null(t.grad));

        // The next backward pass reaches only the first parameter: its gradient is that pass's alone (nothing accumulated
        // onto an old one), and AdamW leaves the others untouched, as torch.optim.AdamW skips a parameter whose grad is None.
        var before = p.Select(t => t.detach().data<float>().ToArray()).ToArray();
        using (var loss = (p[0] * 3f).sum()) loss.backward();
        Assert.All(p[0].grad!.data<float>().ToArray(), g => Assert.Equal(3f, g));
        Assert.All(p.Skip(1), t => Assert.Null(t.grad));
        optimizer.Step();
        Assert.NotEqual(before[0], p[0].detach().data<float>().ToArray());
        for (int i = 1; i < p.Length; i++) Assert.Equal(before[i], p[i].detach().data<float>().ToArray());
    }
}

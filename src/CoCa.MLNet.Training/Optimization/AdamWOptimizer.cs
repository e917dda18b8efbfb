using System.Globalization;
using CoCa.MLNet.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter; the update of <c>torch.optim.AdamW</c> without amsgrad), with every hyper-parameter
/// handed to libtorch as an explicit <see cref="Scalar"/> that this class creates, keeps referenced until the native
/// call has returned, and disposes.
/// </summary>
/// <remarks>
/// Why not <c>torch.optim.AdamW</c>: TorchSharp's step passes implicitly converted doubles (<c>mul_(beta1)</c>,
/// <c>addcmul_(grad, grad, value: 1 - beta2)</c>, <c>addcdiv_(…, value: -step_size)</c>). The temporary Scalar's last
/// managed use is the read of its handle, so the garbage collector may finalize it, and free the native
/// <c>c10::Scalar</c>, while libtorch still reads it: a crash ("Expected false to be true … toFloat") whose timing
/// depends on the garbage collector. Per parameter, one step does, in this order (as TorchSharp's AdamW, so the
/// results are the same bit for bit):
/// p ← p·(1 − lr·λ); m ← m·β₁ + g·(1 − β₁); v ← v·β₂ + g²·(1 − β₂);
/// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
/// </remarks>
internal sealed class AdamWOptimizer : IDisposable
{
    /// <summary>Name of the step-count entry in <see cref="ExportState"/>.</summary>
    public const string StepName = "step";

    /// <summary>Suffix of the first-moment (running mean of the gradients) entries.</summary>
    public const string ExpAvgSuffix = ".exp_avg";

    /// <summary>Suffix of the second-moment (running mean of the squared gradients) entries.</summary>
    public const string ExpAvgSqSuffix = ".exp_avg_sq";

    // Steps are stored in a float32 tensor (safetensors of float32): exact up to 2^24.
    private const long MaxExportableSteps = 1L << 24;

    private readonly List<AdamWParameterGroup> _groups;
    private readonly List<ParameterState> _states = [];
    private readonly double _beta1, _beta2, _eps;
    private readonly Scalar _beta1Scalar, _oneMinusBeta1, _beta2Scalar, _oneMinusBeta2;
    private double _learningRate = 1e-3;
    private bool _disposed;

    public AdamWOptimizer(IEnumerable<AdamWParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (beta1 is < 0 or >= 1 || double.IsNaN(beta1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "AdamW beta1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1 || double.IsNaN(beta2)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "AdamW beta2 must be in [0, 1).");
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "AdamW epsilon must be a finite number ≥ 0.");
        _groups = groups.ToList();
        if (_groups.Count == 0) throw new ArgumentException("AdamW needs at least one parameter group.", nameof(groups));

        var seen = new HashSet<IntPtr>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int g = 0; g < _groups.Count; g++)
        {
            var group = _groups[g] ?? throw new ArgumentException("A parameter group is null.", nameof(groups));
            for (int i = 0; i < group.Parameters.Count; i++)
            {
                var p = group.Parameters[i];
                if (!seen.Add(p.Handle))
                    throw new ArgumentException($"Parameter '{group.Names[i]}' of group {g} appears in more than one place; each parameter is optimized once.", nameof(groups));
                string name = group.IsNamed ? group.Names[i] : $"{g}.{group.Names[i]}";
                if (!names.Add(name))
                    throw new ArgumentException($"Two parameters share the name '{name}'.", nameof(groups));
                _states.Add(new ParameterState(p, name, g));
            }
        }

        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        _beta1Scalar = beta1.ToScalar();
        _oneMinusBeta1 = (1 - beta1).ToScalar();
        _beta2Scalar = beta2.ToScalar();
        _oneMinusBeta2 = (1 - beta2).ToScalar();
    }

    /// <summary>Learning rate of the next <see cref="Step"/> (a schedule sets it before every step). Default 1e-3.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number ≥ 0.");
            _learningRate = value;
        }
    }

    /// <summary>Steps taken (restored by <see cref="ImportState"/>); bias corrections use it.</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<AdamWParameterGroup> Groups => _groups;

    /// <summary>One AdamW update of every parameter that has a gradient, from its current gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        StepCount++;
        double lr = _learningRate;
        double biasCorrection1 = 1 - Math.Pow(_beta1, StepCount);
        double biasCorrection2 = 1 - Math.Pow(_beta2, StepCount);
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = _eps.ToScalar();
        var negativeStepSize = new Scalar[_groups.Count];
        var decay = new Scalar?[_groups.Count];
        try
        {
            for (int g = 0; g < _groups.Count; g++)
            {
                double groupLr = lr * _groups[g].LearningRateScale;
                negativeStepSize[g] = Float32Factor(-(groupLr / biasCorrection1)).ToScalar();
                if (_groups[g].WeightDecay != 0) decay[g] = Float32Factor(1 - groupLr * _groups[g].WeightDecay).ToScalar();
            }

            foreach (var state in _states)
            {
                var grad = state.Parameter.grad;
                if (grad is null) continue;
                var p = state.Parameter;
                if (decay[state.Group] is { } d) p.mul_(d);
                state.ExpAvg.mul_(_beta1Scalar).add_(grad, _oneMinusBeta1);
                state.ExpAvgSq.mul_(_beta2Scalar).addcmul_(grad, grad, _oneMinusBeta2);
                // Disposed at once: the scope would keep every parameter's denominator (one float32 copy of the weights) to the end.
                using var denom = state.ExpAvgSq.sqrt();
                denom.div_(sqrtBiasCorrection2).add_(eps, TorchScalars.One);
                p.addcdiv_(state.ExpAvg, denom, negativeStepSize[state.Group]);
            }
        }
        finally
        {
            foreach (var d in decay) d?.Dispose();
            foreach (var n in negativeStepSize) n?.Dispose();
        }
    }

    /// <summary>
    /// <paramref name="value"/>, or ±∞ where it lies beyond float32's range. libtorch refuses a double Scalar that a
    /// float32 tensor cannot hold ("value cannot be converted to type float without overflow"); ±∞ it takes, and the
    /// step then gives the weights float32 arithmetic's own result, infinite or NaN, which the trainers report as a
    /// divergence (a learning rate of 1e300 is one far too high, like 1e9), not as libtorch's error.
    /// </summary>
    internal static double Float32Factor(double value) =>
        Math.Abs(value) > float.MaxValue ? double.CopySign(double.PositiveInfinity, value) : value;

    /// <summary>
    /// Drops every parameter's gradient (<c>zero_grad(set_to_none=True)</c>, PyTorch's default), so the next backward
    /// pass allocates each gradient when it reaches its parameter, as the activations it no longer needs are freed:
    /// zeroed gradients would hold one float32 copy of the weights through the whole forward pass, on top of the
    /// activations. A parameter that then receives no gradient is left out of the next <see cref="Step"/>, as
    /// <c>torch.optim.AdamW</c> leaves out a parameter whose gradient is None.
    /// </summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var state in _states) state.Parameter.grad = null;
    }

    /// <summary>
    /// The state to resume training: <see cref="StepName"/> ([1], the step count) and, per parameter, its first and second
    /// moments ("NAME.exp_avg", "NAME.exp_avg_sq", float32, the parameter's shape), NAME being the parameter's name in a
    /// named group and "GROUP.INDEX" otherwise. Write it with <c>SafetensorsWriter.Write(path, state)</c>.
    /// </summary>
    public IReadOnlyList<CheckpointTensor> ExportState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (StepCount >= MaxExportableSteps)
            throw new InvalidOperationException($"AdamW state export holds the step count as float32, exact up to {MaxExportableSteps} steps; this optimizer took {StepCount}.");
        var list = new List<CheckpointTensor>(1 + 2 * _states.Count) { new(StepName, [1], [StepCount]) };
        foreach (var state in _states)
        {
            list.Add(ToCheckpoint(state.Name + ExpAvgSuffix, state.ExpAvg));
            list.Add(ToCheckpoint(state.Name + ExpAvgSqSuffix, state.ExpAvgSq));
        }
        return list;
    }

    /// <summary>
    /// Restores <see cref="ExportState"/>'s output (for instance read back with <c>SafetensorsReader.Read</c>): the step
    /// count and every parameter's moments. Names and shapes must match this optimizer's parameters exactly.
    /// </summary>
    public void ImportState(IReadOnlyDictionary<string, CheckpointTensor> state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        var expected = new HashSet<string>(_states.SelectMany(s => new[] { s.Name + ExpAvgSuffix, s.Name + ExpAvgSqSuffix }).Append(StepName), StringComparer.Ordinal);
        var unknown = state.Keys.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"AdamW state has entries for no parameter of this optimizer: {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? ", …" : "")}.", nameof(state));
        var missing = expected.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"AdamW state lacks {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}.", nameof(state));
        var step = state[StepName];
        if (step.Data.Length != 1 || !(step.Data[0] >= 0) || step.Data[0] != Math.Floor(step.Data[0]))
            throw new ArgumentException($"AdamW state '{StepName}' must hold one whole number ≥ 0, got {step.ShapeText}.", nameof(state));
        foreach (var s in _states)
        {
            Check(state[s.Name + ExpAvgSuffix], s.Parameter);
            Check(state[s.Name + ExpAvgSqSuffix], s.Parameter);
        }

        using var _ = torch.no_grad();
        foreach (var s in _states)
        {
            Load(state[s.Name + ExpAvgSuffix], s.ExpAvg);
            Load(state[s.Name + ExpAvgSqSuffix], s.ExpAvgSq);
        }
        StepCount = (long)step.Data[0];
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _states) s.Dispose();
        _beta1Scalar.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2Scalar.Dispose();
        _oneMinusBeta2.Dispose();
    }

    private static CheckpointTensor ToCheckpoint(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var data = tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        return new CheckpointTensor(name, tensor.shape, data);
    }

    private static void Check(CheckpointTensor t, Parameter p)
    {
        if (!t.Shape.AsSpan().SequenceEqual(p.shape))
            throw new ArgumentException($"AdamW state '{t.Name}' has shape {t.ShapeText}, its parameter [{string.Join(", ", p.shape)}].", nameof(t));
    }

    private static void Load(CheckpointTensor source, Tensor target)
    {
        using var scope = NewDisposeScope();
        target.copy_(torch.tensor(source.Data, source.Shape));
    }

    /// <summary>One parameter's moments (same shape, dtype and device as the parameter).</summary>
    private sealed class ParameterState : IDisposable
    {
        public ParameterState(Parameter parameter, string name, int group)
        {
            Parameter = parameter;
            Name = name;
            Group = group;
            using var _ = torch.no_grad();
            ExpAvg = torch.zeros_like(parameter).DetachFromDisposeScope();
            ExpAvgSq = torch.zeros_like(parameter).DetachFromDisposeScope();
        }

        public Parameter Parameter { get; }
        public string Name { get; }
        public int Group { get; }
        public Tensor ExpAvg { get; }
        public Tensor ExpAvgSq { get; }

        public void Dispose()
        {
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"AdamW(lr {_learningRate}, betas ({_beta1}, {_beta2}), eps {_eps}, {_groups.Count} group(s), {_states.Count} parameters, step {StepCount})");
}

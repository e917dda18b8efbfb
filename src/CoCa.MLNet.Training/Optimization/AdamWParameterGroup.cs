using TorchSharp.Modules;

namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// Parameters that <see cref="AdamWOptimizer"/> updates with one decoupled weight decay (open_clip decays weight
/// matrices and embeddings, not biases and LayerNorm gains: two groups).
/// </summary>
internal sealed class AdamWParameterGroup
{
    /// <summary>Unnamed parameters: their optimizer state is named "{group}.{index}" (see <see cref="AdamWOptimizer.ExportState"/>).</summary>
    public AdamWParameterGroup(IEnumerable<Parameter> parameters, double weightDecay)
        : this(Named(parameters), weightDecay, named: false)
    {
    }

    /// <summary>Named parameters (e.g. a module's state-dict names): their optimizer state carries these names.</summary>
    public AdamWParameterGroup(IEnumerable<(string Name, Parameter Parameter)> parameters, double weightDecay)
        : this(parameters, weightDecay, named: true)
    {
    }

    private AdamWParameterGroup(IEnumerable<(string Name, Parameter Parameter)> parameters, double weightDecay, bool named)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "AdamW weight decay must be a finite number ≥ 0.");
        var list = parameters.ToList();
        foreach (var (name, p) in list)
        {
            if (p is null) throw new ArgumentException("A parameter group holds a null parameter.", nameof(parameters));
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A named parameter group holds a parameter without a name.", nameof(parameters));
        }
        Names = list.Select(t => t.Name).ToArray();
        Parameters = list.Select(t => t.Parameter).ToArray();
        WeightDecay = weightDecay;
        IsNamed = named;
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The parameters' names; for an unnamed group, their index in it.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Decoupled weight decay: every step multiplies the parameters by 1 − learning rate × decay.</summary>
    public double WeightDecay { get; }

    /// <summary>
    /// This group's learning rate relative to the optimizer's (1: the same). A fine-tuned encoder learns slower than
    /// the new head on top of it, and its lower blocks slower than its upper ones (layer-wise decay).
    /// </summary>
    public double LearningRateScale
    {
        get => _learningRateScale;
        init => _learningRateScale = value > 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRateScale), value, "A learning-rate scale must be a finite number > 0.");
    }

    private readonly double _learningRateScale = 1.0;

    internal bool IsNamed { get; }

    private static IEnumerable<(string, Parameter)> Named(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.Select((p, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), p));
    }
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// open_clip's AdamW parameter groups (training/main.py): no weight decay for parameters with fewer than 2 dimensions
/// (LayerNorm gains and biases, biases, class_embedding, cls_emb, logit_scale) or named bias/ln/bn/logit_scale
/// (open_clip's <c>exclude</c>); weight decay for the rest (weight matrices, token and positional embeddings, pooler
/// queries, projections). One rule for every trainer here: the fine-tuner, the fine-tuned classifier and the pooler.
/// </summary>
internal static class OpenClipWeightDecay
{
    /// <summary>True when open_clip does not decay <paramref name="parameter"/> (named <paramref name="name"/>).</summary>
    public static bool Excludes(string name, Tensor parameter) =>
        parameter.dim() < 2 || name.Contains("bn", StringComparison.Ordinal) || name.Contains("ln", StringComparison.Ordinal)
        || name.Contains("bias", StringComparison.Ordinal) || name.Contains("logit_scale", StringComparison.Ordinal);

    /// <summary>
    /// The not-decayed group (weight decay 0), then the one decayed by <paramref name="weightDecay"/>, both at
    /// <paramref name="learningRateScale"/>; an empty group is left out. Parameters keep their names, so the
    /// optimizer's state does too (<see cref="AdamWOptimizer.ExportState"/>).
    /// </summary>
    public static IEnumerable<AdamWParameterGroup> Groups(IEnumerable<(string Name, Parameter Parameter)> named, double weightDecay, double learningRateScale = 1.0)
    {
        var list = named.ToList();
        var noDecay = list.Where(t => Excludes(t.Name, t.Parameter)).ToList();
        var decay = list.Where(t => !Excludes(t.Name, t.Parameter)).ToList();
        if (noDecay.Count > 0) yield return new AdamWParameterGroup(noDecay, 0.0) { LearningRateScale = learningRateScale };
        if (decay.Count > 0) yield return new AdamWParameterGroup(decay, weightDecay) { LearningRateScale = learningRateScale };
    }
}

using System.Globalization;

namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// Training stopped because it diverged: a loss, a gradient norm or the weights stopped being finite numbers (NaN or
/// ±Inf), almost always because the learning rate is too high. Every CoCa.MLNet trainer (the attentional pooler, the
/// CoCa fine-tuner) throws it at the first such step, before the optimizer applies it, and saves nothing from that
/// step on: what was saved before (the fine-tuner's epoch checkpoints) stays, what would come after is never written.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    // afterUpdate: the step was applied and the loss with the weights it made is `loss` (not finite).
    internal TrainingDivergedException(int epoch, long step, double loss, double? gradientNorm, double learningRate, string? lastGoodCheckpoint, string? resumeHint = null, bool afterUpdate = false)
        : base(Describe(epoch, step, loss, gradientNorm, learningRate, lastGoodCheckpoint, resumeHint, afterUpdate))
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
        GradientNorm = gradientNorm;
        LearningRate = learningRate;
        LastGoodCheckpoint = lastGoodCheckpoint;
    }

    /// <summary>The epoch (from 1) of the step that diverged.</summary>
    public int Epoch { get; }

    /// <summary>
    /// The optimizer step (from 1, counted over the whole run) that diverged; it was not applied, or, when its update made
    /// weights that compute a non-finite loss (found at the end of an epoch), nothing from it was saved.
    /// </summary>
    public long Step { get; }

    /// <summary>The training loss of that step: NaN or ±Inf, or a finite number when the gradients or weights diverged.</summary>
    public double Loss { get; }

    /// <summary>The global gradient norm of that step when it was measured (NaN or ±Inf when the gradients diverged).</summary>
    public double? GradientNorm { get; }

    /// <summary>The learning rate the schedule gave that step.</summary>
    public double LearningRate { get; }

    /// <summary>The last checkpoint written before the divergence (it is kept), or null when the trainer wrote none.</summary>
    public string? LastGoodCheckpoint { get; }

    private static string Describe(int epoch, long step, double loss, double? gradientNorm, double learningRate, string? lastGoodCheckpoint, string? resumeHint, bool afterUpdate)
    {
        var c = CultureInfo.InvariantCulture;
        string what = afterUpdate ? $"the weights it made compute a loss of {loss.ToString(c)}"
            : !double.IsFinite(loss) ? $"the loss is {loss.ToString(c)}"
            : gradientNorm is { } g && !double.IsFinite(g) ? $"the gradient norm is {g.ToString(c)} (loss {loss.ToString("G5", c)})"
            : $"the weights are no longer finite (loss {loss.ToString("G5", c)})";
        string kept = lastGoodCheckpoint is null
            ? "nothing was saved"
            : $"the last good checkpoint, {lastGoodCheckpoint}, is kept{(resumeHint is null ? "" : $" ({resumeHint})")}";
        return $"Training diverged at epoch {epoch}, step {step}: {what}. The learning rate is likely too high " +
            $"({learningRate.ToString("G3", c)} at that step): lower it (--lr, LearningRate) and train again; {kept}.";
    }
}

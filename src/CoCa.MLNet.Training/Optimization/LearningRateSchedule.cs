namespace CoCa.MLNet.Training.Optimization;

/// <summary>Linear warmup from 0 to the peak over the first steps, then cosine decay towards 0 (reached one step after the last).</summary>
internal sealed class LearningRateSchedule
{
    public LearningRateSchedule(double peak, int totalSteps, int warmupSteps)
    {
        if (!(peak > 0)) throw new ArgumentOutOfRangeException(nameof(peak), peak, "The learning rate must be positive.");
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Training needs at least one step.");
        if (warmupSteps < 0 || warmupSteps > totalSteps) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"The warmup must be 0 to {totalSteps} steps.");
        Peak = peak;
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
    }

    public double Peak { get; }
    public int TotalSteps { get; }
    public int WarmupSteps { get; }

    /// <summary>The learning rate of 0-based step <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return Peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}

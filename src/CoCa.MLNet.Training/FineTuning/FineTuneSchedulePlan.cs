using System.Globalization;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The peak learning rate and warmup of a fine-tuning run, and where they come from: given in the options, kept from
/// the resumed run, or the defaults of the start (from scratch: open_clip's training defaults; from weights: the
/// fine-tuning ones). From scratch needs a learning rate some fifty times larger: at 1e-5, 720 captioned pictures × 30
/// epochs reached contrastive 2.9 / caption 8.2 at epoch 15, at open_clip's 5e-4 2.6 / 1.9.
/// </summary>
internal sealed record FineTuneSchedulePlan(double LearningRate, int WarmupSteps, int TotalSteps, string Description)
{
    public static FineTuneSchedulePlan Create(CoCaFineTuneOptions options, bool fromScratch, int totalSteps, FineTuneRunState? resumed)
    {
        var c = CultureInfo.InvariantCulture;
        string defaults = fromScratch ? "open_clip's training defaults" : "the fine-tuning defaults";

        double lr;
        string lrSource;
        if (options.LearningRate is { } given)
            (lr, lrSource) = (given, resumed is not null && resumed.LearningRate != given ? $"given; the saved run had {resumed.LearningRate.ToString("G3", c)}" : "given");
        else if (resumed is not null)
            (lr, lrSource) = (resumed.LearningRate, "the saved run's");
        else
            (lr, lrSource) = (fromScratch ? CoCaFineTuneOptions.FromScratchLearningRate : CoCaFineTuneOptions.FineTuningLearningRate, defaults);

        int warmup;
        string warmupSource;
        if (options.WarmupFraction is { } fraction)
            (warmup, warmupSource) = ((int)Math.Round(fraction * totalSteps), string.Create(c, $"given, {fraction:P0}"));
        else if (resumed?.WarmupSteps is { } saved)
            (warmup, warmupSource) = (Math.Min(saved, totalSteps), "the saved run's");
        else if (fromScratch)
            (warmup, warmupSource) = (Math.Min(CoCaFineTuneOptions.FromScratchWarmupSteps, totalSteps / 10),
                string.Create(c, $"{defaults}: {CoCaFineTuneOptions.FromScratchWarmupSteps:N0} steps, at most a tenth of the run"));
        else
            (warmup, warmupSource) = ((int)Math.Round(CoCaFineTuneOptions.FineTuningWarmupFraction * totalSteps),
                string.Create(c, $"{defaults}: {CoCaFineTuneOptions.FineTuningWarmupFraction:P0} of the run"));

        var text = string.Create(c, $"learning rate {lr:G3} ({lrSource}), warmup {warmup} of {totalSteps} steps ({warmupSource})");
        return new FineTuneSchedulePlan(lr, warmup, totalSteps, text);
    }
}

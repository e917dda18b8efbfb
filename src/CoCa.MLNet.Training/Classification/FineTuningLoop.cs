using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training.Optimization;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Classification;

/// <summary>Hyper-parameters of one fine-tuning run (validated <see cref="FineTunedCoCaOptions"/>).</summary>
internal sealed record FineTuningSettings(
    double LearningRate,
    double EncoderLearningRate,
    double LayerDecay,
    double WeightDecay,
    double GradientClipNorm,
    PoolerTrainingPlan Plan,
    double LabelSmoothing,
    double EarlyStoppingMinDelta,
    Device Device,
    TrainingPrecision Precision = TrainingPrecision.Float32);

/// <summary>The best epoch (of validation, else the last) and every epoch's metrics; the model holds the best weights.</summary>
internal sealed record FineTuningResult(AttentionalPoolerWeights Pooler, IReadOnlyList<AttentionalPoolerProgress> History, int BestEpoch);

/// <summary>
/// Fine-tuning of <see cref="FineTunedCoCaModule"/> in the classifiers' loop (<see cref="SoftmaxTrainingLoop"/>): AdamW with
/// the new head at the full learning rate and the encoder's blocks at a lower one (optionally decaying with depth),
/// open_clip's weight-decay groups, global gradient clipping.
/// </summary>
internal static class FineTuningLoop
{
    public static FineTuningResult Run(FineTunedCoCaModule model, IExampleBatches batches, IReadOnlyList<int> labels, int[] trainRows, int[] validationRows,
        FineTuningSettings settings, int seed, Action<AttentionalPoolerProgress>? report = null, Action? checkAlive = null)
    {
        using var optimizer = new AdamWOptimizer(ParameterGroups(model, settings));
        var loop = new SoftmaxTrainingSettings(settings.LearningRate, settings.Plan, settings.LabelSmoothing, settings.EarlyStoppingMinDelta,
            settings.GradientClipNorm, ValidationBatchSize: settings.Plan.BatchSize, seed, settings.Device, settings.Precision);
        var result = SoftmaxTrainingLoop.Run(model, (rows, training) => Forward(model, batches, rows, training),
            model.parameters().Where(p => p.requires_grad).ToList<Tensor>(), optimizer,
            () => new Snapshot(model.ExportEncoder(), model.ExportPooler()), labels, trainRows, validationRows, loop, report, checkAlive);
        if (result.Best is { } kept)
        {
            model.LoadEncoder(kept.Encoder);
            model.Pooler.LoadWeights(kept.Pooler);
            return new FineTuningResult(kept.Pooler, result.History, result.BestEpoch);
        }
        return new FineTuningResult(model.ExportPooler(), result.History, result.BestEpoch);
    }

    /// <summary>The trained weights of an epoch: the encoder's trained blocks and the new pooler.</summary>
    private sealed record Snapshot(Dictionary<string, float[]> Encoder, AttentionalPoolerWeights Pooler);

    private static Tensor Forward(FineTunedCoCaModule model, IExampleBatches batches, ReadOnlySpan<int> rows, bool training)
    {
        var input = batches.Load(rows, training);
        return batches.GivesLowerBlocks ? model.FromLowerBlocks(input) : model.forward(input);
    }

    /// <summary>
    /// The new pooler and head at the full learning rate; each trained encoder block at the encoder's, times the layer
    /// decay per block below the top. In each, open_clip's weight-decay rule (<see cref="OpenClipWeightDecay"/>).
    /// </summary>
    internal static IEnumerable<AdamWParameterGroup> ParameterGroups(FineTunedCoCaModule model, FineTuningSettings settings)
    {
        var head = model.Pooler.NamedTensors().Select(t => ("pooler." + t.Name, t.Tensor));
        foreach (var group in OpenClipWeightDecay.Groups(head, settings.WeightDecay)) yield return group;

        double encoderScale = settings.EncoderLearningRate / settings.LearningRate;
        foreach (var depth in model.TrainableEncoderParameters().GroupBy(p => p.Depth).OrderBy(g => g.Key))
        {
            double scale = encoderScale * Math.Pow(settings.LayerDecay, depth.Key);
            var named = depth.Select(p => ("visual." + p.Name, p.Parameter));
            foreach (var group in OpenClipWeightDecay.Groups(named, settings.WeightDecay, scale)) yield return group;
        }
    }
}

using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>Hyper-parameters of one training run (validated <see cref="AttentionalPoolerOptions"/>).</summary>
internal sealed record PoolerTrainingSettings(
    double LearningRate,
    double WeightDecay,
    PoolerTrainingPlan Plan,
    double LabelSmoothing,
    double Dropout,
    int Seed,
    double EarlyStoppingMinDelta,
    Device Device,
    TrainingPrecision Precision = TrainingPrecision.Float32);

/// <summary>The trained weights (of the best validation epoch when validating) and the per-epoch metrics.</summary>
internal sealed record PoolerTrainingResult(AttentionalPoolerWeights Weights, IReadOnlyList<AttentionalPoolerProgress> History, int BestEpoch);

/// <summary>
/// Training of a new <see cref="AttentionalPoolerModule"/> on stored frozen features with AdamW
/// (<see cref="AdamWOptimizer"/>, open_clip's weight-decay groups) in the classifiers' loop (<see cref="SoftmaxTrainingLoop"/>).
/// </summary>
internal static class PoolerTrainingLoop
{
    public static PoolerTrainingResult Run(
        AttentionalPoolerConfig config,
        FeatureStore store,
        IReadOnlyList<int> labels,
        int[] trainRows,
        int[] validationRows,
        PoolerTrainingSettings settings,
        Action<AttentionalPoolerProgress>? report = null,
        Action? checkAlive = null)
    {
        if (labels.Count != store.Count) throw new ArgumentException($"{labels.Count} labels for {store.Count} stored examples.", nameof(labels));

        using var generator = new torch.Generator((ulong)settings.Seed, torch.CPU);
        using var model = new AttentionalPoolerModule(config, settings.Dropout, generator);
        model.to(settings.Device);

        // Weight matrices, queries and frame embeddings decay; biases and LayerNorm gains do not (as open_clip).
        var parameters = model.NamedTensors().ToList();
        using var optimizer = new AdamWOptimizer(OpenClipWeightDecay.Groups(parameters, settings.WeightDecay));

        int batch = settings.Plan.BatchSize;
        var loader = new TokenBatchLoader(store, Math.Max(batch, Math.Min(validationRows.Length, 2 * batch)), settings.Device);
        var loop = new SoftmaxTrainingSettings(settings.LearningRate, settings.Plan, settings.LabelSmoothing, settings.EarlyStoppingMinDelta,
            GradientClipNorm: 0, ValidationBatchSize: 2 * batch, settings.Seed, settings.Device, settings.Precision);
        var result = SoftmaxTrainingLoop.Run(model, (rows, _) => model.forward(loader.Load(rows)),
            parameters.Select(p => (Tensor)p.Tensor).ToList(), optimizer, model.ExportWeights,
            labels, trainRows, validationRows, loop, report, checkAlive);
        return new PoolerTrainingResult(result.Best ?? model.ExportWeights(), result.History, result.BestEpoch);
    }
}

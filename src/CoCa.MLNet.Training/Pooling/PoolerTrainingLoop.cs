using System.Diagnostics;
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
/// Mini-batch training of <see cref="AttentionalPoolerModule"/> with AdamW (<see cref="AdamWOptimizer"/>), linear warmup + cosine decay, softmax
/// cross-entropy (optionally label-smoothed), and early stopping on validation loss. A step whose loss or gradient norm
/// is not finite (or an epoch that leaves the weights or the validation loss so) stops training with a
/// <see cref="TrainingDivergedException"/>.
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
        if (trainRows.Length == 0) throw new ArgumentException("No training examples.", nameof(trainRows));
        if (labels.Count != store.Count) throw new ArgumentException($"{labels.Count} labels for {store.Count} stored examples.", nameof(labels));

        using var generator = new torch.Generator((ulong)settings.Seed, torch.CPU);
        using var model = new AttentionalPoolerModule(config, settings.Dropout, generator);
        model.to(settings.Device);

        // Weight matrices, queries and frame embeddings decay; biases and LayerNorm gains do not (as open_clip).
        var parameters = model.NamedTensors().ToList();
        var parameterTensors = parameters.Select(p => (Tensor)p.Tensor).ToList();
        using var optimizer = new AdamWOptimizer(OpenClipWeightDecay.Groups(parameters, settings.WeightDecay));

        var plan = settings.Plan;
        int batch = plan.BatchSize;
        if (plan.BatchesPerEpoch != (trainRows.Length + batch - 1) / batch)
            throw new ArgumentException($"The plan ({plan}) is for another number of training examples than {trainRows.Length}.", nameof(settings));
        var schedule = new LearningRateSchedule(settings.LearningRate, plan.TotalSteps, plan.WarmupSteps);
        var loader = new TokenBatchLoader(store, Math.Max(batch, Math.Min(validationRows.Length, 2 * batch)), settings.Device);
        using var labelTensor = torch.tensor(labels.Select(l => (long)l).ToArray(), device: settings.Device);

        var shuffle = new Random(settings.Seed);
        var order = (int[])trainRows.Clone();
        var history = new List<AttentionalPoolerProgress>();
        var best = new BestEpoch<AttentionalPoolerWeights>(settings.EarlyStoppingMinDelta, schedule.WarmupSteps);
        int step = 0;
        double lr = 0, lastLoss = double.NaN;

        for (int epoch = 1; epoch <= plan.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            model.train();
            shuffle.Shuffle(order);
            double lossSum = 0;
            long correct = 0;
            for (int start = 0; start < order.Length; start += batch)
            {
                checkAlive?.Invoke();
                var rows = order.AsSpan(start, Math.Min(batch, order.Length - start));
                lr = schedule.At(step++);
                optimizer.LearningRate = lr;

                using var scope = NewDisposeScope();
                var x = loader.Load(rows);
                var y = labelTensor.index_select(0, torch.tensor(rows.ToArray(), device: settings.Device));
                Tensor logits;
                using (MixedPrecision.Enter(settings.Precision)) logits = model.forward(x);
                var loss = nn.functional.cross_entropy(logits, y, label_smoothing: settings.LabelSmoothing);
                optimizer.ZeroGrad();
                loss.backward();
                // The loss (read for the epoch's mean anyway) and the gradient norm in one transfer: a step that is not
                // finite stops training before the optimizer applies it.
                var (stepLoss, gradientNorm) = DivergenceGuard.ReadLossAndGradientNorm(loss, parameterTensors);
                if (!double.IsFinite(stepLoss) || !double.IsFinite(gradientNorm))
                    throw new TrainingDivergedException(epoch, step, stepLoss, gradientNorm, lr, lastGoodCheckpoint: null);
                optimizer.Step();
                lastLoss = stepLoss;
                lossSum += stepLoss * rows.Length;
                correct += logits.argmax(1).eq(y).sum().item<long>();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            // The last step's update can break the weights although its loss and gradients were finite.
            if (!DivergenceGuard.AllFinite(parameterTensors))
                throw new TrainingDivergedException(epoch, step, lastLoss, gradientNorm: null, lr, lastGoodCheckpoint: null);

            double? valLoss = null, valAccuracy = null;
            bool isBest = false;
            if (validationRows.Length > 0)
            {
                (valLoss, valAccuracy) = Evaluate(model, loader, labelTensor, validationRows, 2 * batch, settings.Device);
                if (!double.IsFinite(valLoss.Value))
                    throw new TrainingDivergedException(epoch, step, valLoss.Value, gradientNorm: null, lr, lastGoodCheckpoint: null);
                isBest = best.Observe(epoch, valLoss.Value, step, model.ExportWeights);
            }

            var progress = new AttentionalPoolerProgress(epoch, plan.Epochs, lossSum / order.Length, (double)correct / order.Length,
                valLoss, valAccuracy, order.Length / Math.Max(seconds, 1e-9), lr, isBest);
            history.Add(progress);
            report?.Invoke(progress);
            if (validationRows.Length > 0 && best.ShouldStop(plan.EarlyStoppingPatience)) break;
        }

        return best.Weights is { } kept
            ? new PoolerTrainingResult(kept, history, best.Epoch)
            : new PoolerTrainingResult(model.ExportWeights(), history, history.Count);
    }

    /// <summary>Mean (unsmoothed) cross-entropy and accuracy over <paramref name="rows"/>, in eval mode.</summary>
    private static (double Loss, double Accuracy) Evaluate(AttentionalPoolerModule model, TokenBatchLoader loader, Tensor labels, int[] rows, int batch, Device device)
    {
        model.eval();
        using var _ = torch.no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < rows.Length; start += batch)
        {
            var part = rows.AsSpan(start, Math.Min(batch, rows.Length - start));
            using var scope = NewDisposeScope();
            var logits = model.forward(loader.Load(part));
            var y = labels.index_select(0, torch.tensor(part.ToArray(), device: device));
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        model.train();
        return (lossSum / rows.Length, (double)correct / rows.Length);
    }
}

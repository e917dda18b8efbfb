using System.Diagnostics;
using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>The logits [B, classes] of the example rows <paramref name="rows"/>; <paramref name="training"/>: augment, when on.</summary>
internal delegate Tensor BatchLogits(ReadOnlySpan<int> rows, bool training);

/// <summary>
/// What a run of <see cref="SoftmaxTrainingLoop"/> is given besides its model (validated options of a trainer).
/// <c>GradientClipNorm</c> 0: no clipping; <c>ValidationBatchSize</c>: validation keeps no gradients, so it may be larger
/// than training's.
/// </summary>
internal sealed record SoftmaxTrainingSettings(
    double LearningRate,
    PoolerTrainingPlan Plan,
    double LabelSmoothing,
    double EarlyStoppingMinDelta,
    double GradientClipNorm,
    int ValidationBatchSize,
    int ShuffleSeed,
    Device Device,
    TrainingPrecision Precision);

/// <summary>The weights of the best validation epoch (null without validation: the model holds the last) and every epoch's metrics.</summary>
internal sealed record SoftmaxTrainingResult<TWeights>(TWeights? Best, int BestEpoch, IReadOnlyList<AttentionalPoolerProgress> History);

/// <summary>
/// The epochs of a classifier with a new attentional pooler and head — the frozen pooler's and the fine-tuned
/// classifier's one loop: mini-batches in a seeded shuffle, the learning rate of a linear warmup + cosine decay, softmax
/// cross-entropy (optionally label-smoothed), optional global gradient clipping, early stopping on validation loss
/// (<see cref="BestEpoch{TWeights}"/>). A step whose loss or gradient norm is not finite (or an epoch that leaves the
/// weights or the validation loss so) stops training with a <see cref="TrainingDivergedException"/> before the
/// optimizer applies it.
/// </summary>
internal static class SoftmaxTrainingLoop
{
    /// <summary>
    /// Trains <paramref name="model"/> (train mode for the epochs, eval mode for validation) through
    /// <paramref name="optimizer"/>, which updates <paramref name="trained"/> (checked for divergence, clipped);
    /// <paramref name="snapshot"/> copies the trained weights when an epoch is the best so far.
    /// </summary>
    public static SoftmaxTrainingResult<TWeights> Run<TWeights>(
        nn.Module model,
        BatchLogits logitsOf,
        IReadOnlyList<Tensor> trained,
        AdamWOptimizer optimizer,
        Func<TWeights> snapshot,
        IReadOnlyList<int> labels,
        int[] trainRows,
        int[] validationRows,
        SoftmaxTrainingSettings settings,
        Action<AttentionalPoolerProgress>? report = null,
        Action? checkAlive = null) where TWeights : class
    {
        if (trainRows.Length == 0) throw new ArgumentException("No training examples.", nameof(trainRows));
        var plan = settings.Plan;
        int batch = plan.BatchSize;
        if (plan.BatchesPerEpoch != (trainRows.Length + batch - 1) / batch)
            throw new ArgumentException($"The plan ({plan}) is for another number of training examples than {trainRows.Length}.", nameof(settings));
        var schedule = new LearningRateSchedule(settings.LearningRate, plan.TotalSteps, plan.WarmupSteps);
        using var labelTensor = torch.tensor(labels.Select(l => (long)l).ToArray(), device: settings.Device);

        var shuffle = new Random(settings.ShuffleSeed);
        var order = (int[])trainRows.Clone();
        var history = new List<AttentionalPoolerProgress>();
        var best = new BestEpoch<TWeights>(settings.EarlyStoppingMinDelta, schedule.WarmupSteps);
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
                Tensor logits;
                using (MixedPrecision.Enter(settings.Precision)) logits = logitsOf(rows, training: true);
                var y = labelTensor.index_select(0, torch.tensor(rows.ToArray(), device: settings.Device));
                var loss = nn.functional.cross_entropy(logits, y, label_smoothing: settings.LabelSmoothing);
                optimizer.ZeroGrad();
                loss.backward();
                CustomAutogradNodes.Release();
                var (stepLoss, gradientNorm) = DivergenceGuard.ReadLossAndClipGradients(loss, trained, settings.GradientClipNorm);
                if (!double.IsFinite(stepLoss) || !double.IsFinite(gradientNorm))
                    throw new TrainingDivergedException(epoch, step, stepLoss, gradientNorm, lr, lastGoodCheckpoint: null);
                optimizer.Step();
                lastLoss = stepLoss;
                lossSum += stepLoss * rows.Length;
                correct += logits.argmax(1).eq(y).sum().item<long>();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            // The last step's update can break the weights although its loss and gradients were finite.
            if (!DivergenceGuard.AllFinite(trained))
                throw new TrainingDivergedException(epoch, step, lastLoss, gradientNorm: null, lr, lastGoodCheckpoint: null);

            double? valLoss = null, valAccuracy = null;
            bool isBest = false;
            if (validationRows.Length > 0)
            {
                (valLoss, valAccuracy) = Evaluate(model, logitsOf, labelTensor, validationRows, settings.ValidationBatchSize, settings.Device);
                if (!double.IsFinite(valLoss.Value))
                    throw new TrainingDivergedException(epoch, step, valLoss.Value, gradientNorm: null, lr, lastGoodCheckpoint: null);
                isBest = best.Observe(epoch, valLoss.Value, step, snapshot);
            }

            var progress = new AttentionalPoolerProgress(epoch, plan.Epochs, lossSum / order.Length, (double)correct / order.Length,
                valLoss, valAccuracy, order.Length / Math.Max(seconds, 1e-9), lr, isBest);
            history.Add(progress);
            report?.Invoke(progress);
            if (validationRows.Length > 0 && best.ShouldStop(plan.EarlyStoppingPatience)) break;
        }
        return new SoftmaxTrainingResult<TWeights>(best.Weights, best.Weights is null ? history.Count : best.Epoch, history);
    }

    /// <summary>Mean (unsmoothed) cross-entropy and accuracy over <paramref name="rows"/>, in eval mode.</summary>
    private static (double Loss, double Accuracy) Evaluate(nn.Module model, BatchLogits logitsOf, Tensor labels, int[] rows, int batch, Device device)
    {
        model.eval();
        using var _ = torch.no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < rows.Length; start += batch)
        {
            var part = rows.AsSpan(start, Math.Min(batch, rows.Length - start));
            using var scope = NewDisposeScope();
            var logits = logitsOf(part, training: false);
            var y = labels.index_select(0, torch.tensor(part.ToArray(), device: device));
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        model.train();
        return (lossSum / rows.Length, (double)correct / rows.Length);
    }
}

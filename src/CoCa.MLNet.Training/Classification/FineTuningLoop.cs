using System.Diagnostics;
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
/// Mini-batch fine-tuning of <see cref="FineTunedCoCaModule"/>: AdamW with the new head at the full learning rate and
/// the encoder's blocks at a lower one (optionally decaying with depth), open_clip's weight-decay groups, global
/// gradient clipping, linear warmup + cosine decay, softmax cross-entropy, early stopping on validation loss.
/// </summary>
internal static class FineTuningLoop
{
    public static FineTuningResult Run(FineTunedCoCaModule model, IExampleBatches batches, IReadOnlyList<int> labels, int[] trainRows, int[] validationRows,
        FineTuningSettings settings, int seed, Action<AttentionalPoolerProgress>? report = null, Action? checkAlive = null)
    {
        if (trainRows.Length == 0) throw new ArgumentException("No training examples.", nameof(trainRows));
        using var optimizer = new AdamWOptimizer(ParameterGroups(model, settings));
        var plan = settings.Plan;
        int batch = plan.BatchSize;
        var schedule = new LearningRateSchedule(settings.LearningRate, plan.TotalSteps, plan.WarmupSteps);
        using var labelTensor = torch.tensor(labels.Select(l => (long)l).ToArray(), device: settings.Device);
        var trained = model.parameters().Where(p => p.requires_grad).ToArray();

        var shuffle = new Random(seed);
        var order = (int[])trainRows.Clone();
        var history = new List<AttentionalPoolerProgress>();
        var best = new BestEpoch<Snapshot>(settings.EarlyStoppingMinDelta, schedule.WarmupSteps);
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
                using (MixedPrecision.Enter(settings.Precision)) logits = Forward(model, batches, rows, training: true);
                var y = labelTensor.index_select(0, torch.tensor(rows.ToArray(), device: settings.Device));
                var loss = nn.functional.cross_entropy(logits, y, label_smoothing: settings.LabelSmoothing);
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new TrainingDivergedException(epoch, step, lossValue, gradientNorm: null, lr, lastGoodCheckpoint: null);
                optimizer.ZeroGrad();
                loss.backward();
                ActivationCheckpoint.ReleaseHandedOverGradients();
                // The global gradient norm (clipping's, or measured without clipping): a non-finite one stops the run
                // before the step is applied.
                double norm = nn.utils.clip_grad_norm_(trained, settings.GradientClipNorm > 0 ? settings.GradientClipNorm : double.PositiveInfinity);
                if (!double.IsFinite(norm))
                    throw new TrainingDivergedException(epoch, step, lossValue, norm, lr, lastGoodCheckpoint: null);
                optimizer.Step();
                lastLoss = lossValue;
                lossSum += lossValue * rows.Length;
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
                (valLoss, valAccuracy) = Evaluate(model, batches, labelTensor, validationRows, batch, settings.Device);
                if (!double.IsFinite(valLoss.Value))
                    throw new TrainingDivergedException(epoch, step, valLoss.Value, gradientNorm: null, lr, lastGoodCheckpoint: null);
                isBest = best.Observe(epoch, valLoss.Value, step, () => new Snapshot(model.ExportEncoder(), model.ExportPooler()));
            }

            var progress = new AttentionalPoolerProgress(epoch, plan.Epochs, lossSum / order.Length, (double)correct / order.Length,
                valLoss, valAccuracy, order.Length / Math.Max(seconds, 1e-9), lr, isBest);
            history.Add(progress);
            report?.Invoke(progress);
            if (validationRows.Length > 0 && best.ShouldStop(plan.EarlyStoppingPatience)) break;
        }

        if (best.Weights is { } kept)
        {
            model.LoadEncoder(kept.Encoder);
            model.Pooler.LoadWeights(kept.Pooler);
            return new FineTuningResult(kept.Pooler, history, best.Epoch);
        }
        return new FineTuningResult(model.ExportPooler(), history, history.Count);
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

    /// <summary>Mean (unsmoothed) cross-entropy and accuracy over <paramref name="rows"/>, in eval mode.</summary>
    internal static (double Loss, double Accuracy) Evaluate(FineTunedCoCaModule model, IExampleBatches batches, Tensor labels, int[] rows, int batch, Device device)
    {
        model.eval();
        using var _ = torch.no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < rows.Length; start += batch)
        {
            var part = rows.AsSpan(start, Math.Min(batch, rows.Length - start));
            using var scope = NewDisposeScope();
            var logits = Forward(model, batches, part, training: false);
            var y = labels.index_select(0, torch.tensor(part.ToArray(), device: device));
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        model.train();
        return (lossSum / rows.Length, (double)correct / rows.Length);
    }
}

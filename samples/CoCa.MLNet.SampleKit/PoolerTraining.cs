using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Samples;

/// <summary>What the image and video samples share after featurizing: train with a progress bar, evaluate, chart.</summary>
public static class PoolerTraining
{
    /// <summary>
    /// Trains an attentional pooler with an epoch progress bar. The label is keyed outside the returned model, so the
    /// saved classifier scores inputs without a Label column (new, unlabelled images) and writes the class name in
    /// <c>PredictedLabel</c> (as <c>coca train</c>'s models do, which the ASP.NET sample serves).
    /// </summary>
    public static TrainedPooler Train(MLContext ml, IDataView features, AttentionalPoolerOptions options)
    {
        var history = new List<AttentionalPoolerProgress>();
        ConsoleProgress? bar = null;   // made at the first epoch, which tells the planned number of epochs
        try
        {
            options.Progress = new InlineProgress<AttentionalPoolerProgress>(p =>
            {
                history.Add(p);
                bar ??= new ConsoleProgress("training", p.NumberOfEpochs);
                bar.Report(p.Epoch, $"loss {p.TrainingLoss:F3}" + (p.ValidationLoss is { } v ? $", validation {v:F3}" : ""));
            });
            options.LabelColumnName = "Label";
            var labelToKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(features);
            var keyed = labelToKey.Transform(features);
            var pooler = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(keyed);
            var keyToClass = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(pooler.Transform(keyed));
            if (history.Count > 0 && history.Count < history[^1].NumberOfEpochs) bar?.Report(history[^1].NumberOfEpochs, $"stopped early after epoch {history.Count}");
            return new TrainedPooler(pooler.Append(keyToClass), pooler, labelToKey, history);
        }
        finally
        {
            bar?.Dispose();
        }
    }

    /// <summary>Evaluates on <paramref name="testFeatures"/>, prints the metrics and confusion table, writes loss.html and confusion.html.</summary>
    public static MulticlassClassificationMetrics Report(MLContext ml, TrainedPooler trained, IDataView testFeatures, string outputFolder)
    {
        // ML.NET's evaluator reads a key label and a key prediction: the pooler's own output, the label keyed as in training.
        var scored = trained.Pooler.Transform(trained.LabelToKey.Transform(testFeatures));
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        var classes = slotNames.DenseValues().Select(v => v.ToString()).ToArray();

        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P1} (macro {metrics.MacroAccuracy:P1}), log-loss {metrics.LogLoss:F3}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
        var lossPath = Charts.Loss(trained.History).Save(Path.Combine(outputFolder, "loss.html"));
        var confusionPath = Charts.ConfusionMatrix(classes, metrics.ConfusionMatrix.Counts, "Confusion matrix (test set)").Save(Path.Combine(outputFolder, "confusion.html"));
        Console.WriteLine($"charts: {lossPath}, {confusionPath}");
        return metrics;
    }

}

/// <summary>
/// A trained classifier. <see cref="Model"/> scores tokens into <c>Score</c> and <c>PredictedLabel</c> (the class name),
/// needing no label; <see cref="Pooler"/> (key <c>PredictedLabel</c>) and <see cref="LabelToKey"/> (the training's
/// label keys) are what ML.NET's evaluator needs.
/// </summary>
public sealed record TrainedPooler(ITransformer Model, ITransformer Pooler, ITransformer LabelToKey, List<AttentionalPoolerProgress> History);

using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Samples;

/// <summary>What the image and video samples share after featurizing: train with a progress bar, evaluate, chart.</summary>
public static class PoolerTraining
{
    /// <summary>MapValueToKey → attentional pooler → MapKeyToValue ("PredictedClass"), trained with an epoch progress bar.</summary>
    public static (ITransformer Model, List<AttentionalPoolerProgress> History) Train(MLContext ml, IDataView features, AttentionalPoolerOptions options)
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
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(options))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"))
                .Fit(features);
            if (history.Count > 0 && history.Count < history[^1].NumberOfEpochs) bar?.Report(history[^1].NumberOfEpochs, $"stopped early after epoch {history.Count}");
            return (model, history);
        }
        finally
        {
            bar?.Dispose();
        }
    }

    /// <summary>Evaluates on <paramref name="testFeatures"/>, prints the metrics and confusion table, writes loss.html and confusion.html.</summary>
    public static MulticlassClassificationMetrics Report(MLContext ml, ITransformer model, IDataView testFeatures, List<AttentionalPoolerProgress> history, string outputFolder)
    {
        var scored = model.Transform(testFeatures);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        var classes = slotNames.DenseValues().Select(v => v.ToString()).ToArray();

        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P1} (macro {metrics.MacroAccuracy:P1}), log-loss {metrics.LogLoss:F3}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
        var lossPath = Charts.Loss(history).Save(Path.Combine(outputFolder, "loss.html"));
        var confusionPath = Charts.ConfusionMatrix(classes, metrics.ConfusionMatrix.Counts, "Confusion matrix (test set)").Save(Path.Combine(outputFolder, "confusion.html"));
        Console.WriteLine($"charts: {lossPath}, {confusionPath}");
        return metrics;
    }

}

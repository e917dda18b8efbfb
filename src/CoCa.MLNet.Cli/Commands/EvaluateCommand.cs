using System.CommandLine;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Persistence;
using Microsoft.ML;

namespace CoCa.MLNet.Cli.Commands;

/// <summary><c>coca evaluate --model MODEL.zip --data DIR</c>: top-1 (top-5), per-class recall and confusion matrix.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A model file saved by coca train", Required = true }
            .Existing(ExpectedInput.TrainedModel);
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder: one sub-folder per class (class names as in training)", Required = true }
            .Existing(ExpectedInput.ClassFolders);
        var skipUnreadable = InputPaths.SkipUnreadableOption();
        var command = new Command("evaluate", "Evaluate a trained model on a folder-per-class dataset") { model, data, skipUnreadable };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var ml = new MLContext(0);
            var trained = PoolerPipeline.Load(ml, path, model.Name, "evaluate");
            var summary = PoolerPipeline.Describe(trained, path);
            var examples = LabeledFolder.Read(parse.GetValue(data)!, summary.Video, parse.GetValue(skipUnreadable));
            var metrics = PoolerPipeline.Evaluate(ml, trained, summary, examples, out _);
            ClassificationReport.Print(Console.Out, metrics, summary.Classes, examples.Count);
            return 0;
        });
        return command;
    }
}

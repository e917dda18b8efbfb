using System.CommandLine;
using System.Globalization;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Persistence;
using Microsoft.ML;

namespace CoCa.MLNet.Cli.Commands;

/// <summary><c>coca predict --model MODEL.zip PATH...</c>: one line per input: path, predicted class, its probability.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A model file saved by coca train", Required = true };
        var inputs = new Argument<string[]>("PATH") { Description = "Images (or, for a video model, videos / frame folders), or folders of them", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify images or videos with a trained model") { model, inputs };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var ml = new MLContext(0);
            var trained = ml.Model.LoadCoCa(path, out _);
            var summary = PoolerPipeline.Describe(trained, path);
            var files = summary.Video
                ? InputPaths.ExpandVideos(parse.GetValue(inputs)!)
                : InputPaths.Expand(parse.GetValue(inputs)!, InputPaths.ImageExtensions, "image");
            foreach (var (file, label, probability) in PoolerPipeline.Predict(ml, trained, files))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}\t{label}\t{probability:F4}"));
            return 0;
        });
        return command;
    }
}

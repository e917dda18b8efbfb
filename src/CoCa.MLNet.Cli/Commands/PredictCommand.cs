using System.CommandLine;
using System.Globalization;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Persistence;
using Microsoft.ML;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca predict --model MODEL.zip PATH...</c>: one line per input: path, predicted class, its probability. An input
/// that cannot be read (corrupt, empty, missing) gets one line on stderr naming it; the others are still printed, and
/// the exit code is then 1.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A model file saved by coca train", Required = true }
            .Existing(ExpectedInput.TrainedModel);
        var inputs = new Argument<string[]>("PATH") { Description = "Images (or, for a video model, videos / frame folders), or folders of them", Arity = ArgumentArity.OneOrMore }
            .BatchInputs("images (or, for a video model, videos / frame folders), or folders of them");
        var skipUnreadable = InputPaths.SkipUnreadableOption();
        var command = new Command("predict", "Classify images or videos with a trained model") { model, inputs, skipUnreadable };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var ml = new MLContext(0);
            var trained = PoolerPipeline.Load(ml, path, model.Name, "predict");
            var summary = PoolerPipeline.Describe(trained, path);
            var missing = new List<string>();
            var files = summary.Video
                ? InputPaths.ExpandVideos(parse.GetValue(inputs)!, missing)
                : InputPaths.Expand(parse.GetValue(inputs)!, InputPaths.ImageExtensions, "image", parse.GetValue(skipUnreadable), missing);
            foreach (var line in missing) Console.Error.WriteLine($"coca: {line}");
            int failed = missing.Count;
            foreach (var r in PoolerPipeline.Predict(ml, trained, files))
            {
                if (r.Error is not null)
                {
                    Console.Out.Flush();
                    Console.Error.WriteLine($"coca: {r.Error}");
                    failed++;
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Path}\t{r.Label}\t{r.Probability:F4}"));
                }
            }
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}

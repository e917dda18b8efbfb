using System.CommandLine;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary><c>coca featurize --model DIR --images PATH... --output tokens|embedding --out FILE.npy</c></summary>
internal static class FeaturizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Converted model folder (from coca convert)", Required = true };
        var images = new Option<string[]>("--images", "-i") { Description = "Image files or folders (a folder: its images sorted by name)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "What to write: tokens ([N,T,D], the frozen features) or embedding ([N,E])", DefaultValueFactory = _ => "tokens" };
        output.AcceptOnlyFromAmong("tokens", "embedding");
        var outFile = new Option<string>("--out", "-o") { Description = "The .npy file to write (FILE.npy.txt lists the inputs in order)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images per encoder call", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: all cores)" };
        var gpu = new Option<int?>("--gpu") { Description = "CUDA device id (needs Microsoft.ML.OnnxRuntime.Gpu; falls back to CPU)" };
        var command = new Command("featurize", "Extract CoCa features of images into a .npy file") { model, images, output, outFile, batch, threads, gpu };
        command.SetAction(parse =>
        {
            var inputs = InputPaths.Expand(parse.GetValue(images)!, InputPaths.ImageExtensions, "image");
            var execution = new OnnxExecutionOptions { IntraOpNumThreads = parse.GetValue(threads), GpuDeviceId = parse.GetValue(gpu) };
            using var extractor = CoCaImageFeatureExtractor.Open(parse.GetValue(model)!, execution);
            bool tokens = parse.GetValue(output) == "tokens";
            var path = parse.GetValue(outFile)!;
            int batchSize = Math.Max(1, parse.GetValue(batch));
            var c = extractor.Encoder.Config;
            long[] shape = tokens ? [inputs.Count, c.Vision.TokenCount, c.Vision.Width] : [inputs.Count, c.EmbedDim];
            using (var writer = new NpyStreamWriter(path, shape))
            {
                var progress = new ConsoleProgress("featurize", inputs.Count);
                for (int start = 0; start < inputs.Count; start += batchSize)
                {
                    var chunk = inputs.GetRange(start, Math.Min(batchSize, inputs.Count - start));
                    var (t, e) = extractor.Extract(chunk, tokens, !tokens);
                    writer.Append<float>(tokens ? t : e);
                    progress.Advance(chunk.Count);
                }
                writer.Commit();
                progress.Done();
            }
            WriteIndex(path + ".txt", inputs);
            Console.WriteLine($"Wrote {path} [{string.Join(", ", shape)}] and {path}.txt");
            return 0;
        });
        return command;
    }

    internal static void WriteIndex(string path, IEnumerable<string> inputs)
    {
        var tmp = path + ".tmp";
        File.WriteAllLines(tmp, inputs);
        File.Move(tmp, path, overwrite: true);
    }
}

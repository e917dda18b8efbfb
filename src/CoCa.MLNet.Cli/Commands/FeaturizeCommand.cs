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
        var images = new Option<string[]>("--images", "-i") { Description = "Image (or, with --video, video) files or folders (a folder: its files sorted by name)", Required = true, AllowMultipleArgumentsPerToken = true };
        var video = new Option<bool>("--video") { Description = "Inputs are videos or folders of frame images: tokens become [N,F,T,D], embeddings the mean over frames" };
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var output = new Option<string>("--output") { Description = "What to write: tokens ([N,T,D], the frozen features) or embedding ([N,E])", DefaultValueFactory = _ => "tokens" };
        output.AcceptOnlyFromAmong("tokens", "embedding");
        var outFile = new Option<string>("--out", "-o") { Description = "The .npy file to write (FILE.npy.txt lists the inputs in order)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images per encoder call", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: all cores)" }.AtLeast(0);
        var gpu = new Option<int?>("--gpu") { Description = "CUDA device id (needs Microsoft.ML.OnnxRuntime.Gpu; falls back to CPU)" };
        var skipUnreadable = new Option<bool>("--skip-unreadable") { Description = "Skip image files in formats coca cannot read (with a warning naming them) instead of refusing the folder" };
        var command = new Command("featurize", "Extract CoCa features of images into a .npy file") { model, images, video, frames, output, outFile, batch, threads, gpu, skipUnreadable };
        command.SetAction(parse =>
        {
            bool isVideo = parse.GetValue(video);
            OptionChecks.CheckOutputFile(parse.GetValue(outFile)!, outFile.Name, "features.npy");
            var inputs = isVideo
                ? InputPaths.ExpandVideos(parse.GetValue(images)!)
                : InputPaths.Expand(parse.GetValue(images)!, InputPaths.ImageExtensions, "image", parse.GetValue(skipUnreadable));
            var execution = new OnnxExecutionOptions { IntraOpNumThreads = parse.GetValue(threads), GpuDeviceId = parse.GetValue(gpu) };
            using var extractor = CoCaImageFeatureExtractor.Open(parse.GetValue(model)!, execution);
            bool tokens = parse.GetValue(output) == "tokens";
            var path = parse.GetValue(outFile)!;
            int batchSize = Math.Max(1, parse.GetValue(batch));
            var c = extractor.Encoder.Config;
            int frameCount = parse.GetValue(frames);
            var videos = isVideo ? new CoCaVideoFeatureExtractor(extractor, frameCount, batchSize) : null;
            long[] shape = (tokens, isVideo) switch
            {
                (true, true) => [inputs.Count, frameCount, c.Vision.TokenCount, c.Vision.Width],
                (true, false) => [inputs.Count, c.Vision.TokenCount, c.Vision.Width],
                _ => [inputs.Count, c.EmbedDim],
            };
            int step = videos?.VideosPerBatch ?? batchSize;
            using (var writer = new NpyStreamWriter(path, shape))
            {
                var progress = new ConsoleProgress(isVideo ? "featurize videos" : "featurize", inputs.Count);
                for (int start = 0; start < inputs.Count; start += step)
                {
                    var chunk = inputs.GetRange(start, Math.Min(step, inputs.Count - start));
                    var (t, e) = videos is null ? extractor.Extract(chunk, tokens, !tokens) : videos.Extract(chunk, tokens, !tokens);
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

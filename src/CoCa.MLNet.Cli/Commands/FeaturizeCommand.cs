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
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--output") { Description = "What to write: tokens ([N,T,D], the frozen features) or embedding ([N,E])", DefaultValueFactory = _ => "tokens" };
        output.AcceptOnlyFromAmong("tokens", "embedding");
        var outFile = new Option<string>("--out", "-o") { Description = "The .npy file to write (FILE.npy.txt lists the inputs in order)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images per encoder call", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: all cores)" };
        var gpu = new Option<int?>("--gpu") { Description = "CUDA device id (needs Microsoft.ML.OnnxRuntime.Gpu; falls back to CPU)" };
        var command = new Command("featurize", "Extract CoCa features of images into a .npy file") { model, images, video, frames, output, outFile, batch, threads, gpu };
        command.SetAction(parse =>
        {
            bool isVideo = parse.GetValue(video);
            var inputs = isVideo
                ? InputPaths.ExpandVideos(parse.GetValue(images)!)
                : InputPaths.Expand(parse.GetValue(images)!, InputPaths.ImageExtensions, "image");
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
            Console.WriteLine($"ONNX Runtime: {extractor.Encoder.IntraOpThreads} intra-op threads, {extractor.Encoder.OverlappingThreads} decoding ahead ({CpuBudget.AvailableCores} cores available)");
            using (var writer = new NpyStreamWriter(path, shape))
            {
                var progress = new ConsoleProgress(isVideo ? "featurize videos" : "featurize", inputs.Count);
                var chunks = Enumerable.Range(0, (inputs.Count + step - 1) / step)
                    .Select(k => (IReadOnlyList<string>)inputs.GetRange(k * step, Math.Min(step, inputs.Count - k * step)));
                // Pipelined: the next chunk is decoded and preprocessed while this one is encoded.
                var results = videos is null ? extractor.ExtractBatches(chunks, tokens, !tokens) : videos.ExtractBatches(chunks, tokens, !tokens);
                int done = 0;
                foreach (var (t, e) in results)
                {
                    writer.Append<float>(tokens ? t : e);
                    int n = Math.Min(step, inputs.Count - done);
                    done += n;
                    progress.Advance(n);
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

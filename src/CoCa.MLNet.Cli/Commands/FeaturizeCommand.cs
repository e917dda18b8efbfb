using System.CommandLine;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca featurize --model DIR (--images PATH... | --data DIR) [--output tokens|embedding] [--format npy|parquet]
/// [--shard I/N] --out FILE|FOLDER</c>
/// </summary>
internal static class FeaturizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Converted model folder (from coca convert)", Required = true };
        var images = new Option<string[]>("--images", "-i") { Description = "Image (or, with --video, video) files or folders (a folder: its files sorted by name)", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string?>("--data", "-d") { Description = "Instead of --images: a folder-per-class dataset (as for coca train); the class folder names become labels" };
        var video = new Option<bool>("--video") { Description = "Inputs are videos or folders of frame images: tokens become [N,F,T,D], embeddings the mean over frames" };
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var output = new Option<string>("--output") { Description = "What to write: tokens ([N,T,D], the frozen features) or embedding ([N,E])", DefaultValueFactory = _ => "tokens" };
        output.AcceptOnlyFromAmong("tokens", "embedding");
        var format = new Option<string>("--format") { Description = "npy (FILE.npy + FILE.npy.txt listing the inputs) or parquet (path, label, features, shape in the metadata)", DefaultValueFactory = _ => "npy" };
        format.AcceptOnlyFromAmong("npy", "parquet");
        var shard = new Option<string?>("--shard") { Description = "I/N: featurize only the I-th (from 0) of N contiguous blocks of the inputs; --out is then a folder and the shard's file part-IIIII-of-NNNNN; a finished shard is skipped" };
        var outFile = new Option<string>("--out", "-o") { Description = "The file to write (with --shard: the folder of shard files)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images per encoder call", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core available to the process)" }.AtLeast(0);
        var device = OptionChecks.Device("CUDA needs the GPU build, -p:OnnxRuntime=Gpu; falls back to the CPU");
        var gpu = OptionChecks.LegacyGpu();
        var skipUnreadable = new Option<bool>("--skip-unreadable") { Description = "Skip image files in formats coca cannot read (with a warning naming them) instead of refusing the folder" };
        var command = new Command("featurize", "Extract CoCa features of images or videos into a .npy or Parquet file (or one shard of them)")
        {
            model, images, data, video, frames, output, format, shard, outFile, batch, threads, device, gpu, skipUnreadable,
        };
        command.SetAction(parse =>
        {
            bool isVideo = parse.GetValue(video);
            var spec = parse.GetValue(shard) is { } shardText ? ShardSpec.Parse(shardText) : null;
            bool parquet = parse.GetValue(format) == "parquet";
            var path = parse.GetValue(outFile)!;
            if (spec is null) OptionChecks.CheckOutputFile(path, outFile.Name, parquet ? "features.parquet" : "features.npy");
            else if (File.Exists(path)) throw new ArgumentException($"{outFile.Name} '{path}' is a file; with --shard it is the folder that holds the shard files.");
            var (inputs, labels) = Inputs(parse.GetValue(images), parse.GetValue(data), isVideo, parse.GetValue(skipUnreadable));
            var execution = new OnnxExecutionOptions { IntraOpNumThreads = parse.GetValue(threads), Device = parse.DeviceValue(device, gpu) };
            using var extractor = CoCaImageFeatureExtractor.Open(parse.GetValue(model)!, execution);
            bool tokens = parse.GetValue(output) == "tokens";
            int frameCount = parse.GetValue(frames);
            var c = extractor.Encoder.Config;
            int[] rowShape = (tokens, isVideo) switch
            {
                (true, true) => [frameCount, c.Vision.TokenCount, c.Vision.Width],
                (true, false) => [c.Vision.TokenCount, c.Vision.Width],
                _ => [c.EmbedDim],
            };
            // The fingerprint the ML.NET featurizers put on their tokens (default options): the trainer's cache key.
            var fingerprint = isVideo
                ? EncoderFingerprint.Compute(extractor.Encoder.OnnxModel, "video", frameCount.ToString(System.Globalization.CultureInfo.InvariantCulture), null)
                : EncoderFingerprint.Compute(extractor.Encoder.OnnxModel, "image", null);
            int batchSize = Math.Max(1, parse.GetValue(batch));
            var videos = isVideo ? new CoCaVideoFeatureExtractor(extractor, frameCount, batchSize) : null;
            int step = videos?.VideosPerBatch ?? batchSize;
            if (spec is not null)
            {
                var (start, length) = spec.Range(inputs.Count, step);
                Console.WriteLine($"Shard {spec}: inputs {start}..{start + length - 1} of {inputs.Count}");
                inputs = inputs.GetRange(start, length);
                labels = labels?.GetRange(start, length);
                path = Path.Combine(path, spec.FileName(parquet ? ".parquet" : ".npy"));
                OptionChecks.CheckOutputFile(path, outFile.Name, spec.FileName(parquet ? ".parquet" : ".npy"));
            }
            if (spec is not null && IsDone(path, parquet, inputs, rowShape, fingerprint))
            {
                Console.WriteLine($"Shard already done: {path} ({inputs.Count} inputs); skipped");
                return 0;
            }

            Console.WriteLine($"ONNX Runtime: {extractor.Encoder.IntraOpThreads} intra-op threads, {extractor.Encoder.OverlappingThreads} decoding ahead ({CpuBudget.AvailableCores} cores available)");
            var chunks = Enumerable.Range(0, (inputs.Count + step - 1) / step)
                .Select(k => (IReadOnlyList<string>)inputs.GetRange(k * step, Math.Min(step, inputs.Count - k * step)));
            // Pipelined: the next chunk is decoded and preprocessed while this one is encoded.
            var results = videos is null ? extractor.ExtractBatches(chunks, tokens, !tokens) : videos.ExtractBatches(chunks, tokens, !tokens);
            var progress = new ConsoleProgress(isVideo ? "featurize videos" : "featurize", inputs.Count);
            if (parquet)
            {
                using var writer = new FeatureParquetWriter(path, tokens ? "tokens" : "embedding", rowShape, fingerprint);
                int done = 0;
                foreach (var (t, e) in results)
                {
                    var values = (tokens ? t : e)!;
                    int n = values.Length / rowShape.Aggregate(1, (a, b) => a * b);
                    writer.Append(inputs.GetRange(done, n), labels?.GetRange(done, n) ?? Enumerable.Repeat<string?>(null, n).ToList(), values);
                    done += n;
                    progress.Advance(n);
                }
                writer.Commit();
                progress.Done();
                Console.WriteLine($"Wrote {path}: {inputs.Count} rows of {(tokens ? "tokens" : "embedding")} [{string.Join(", ", rowShape)}]");
            }
            else
            {
                long[] shape = [inputs.Count, .. rowShape.Select(d => (long)d)];
                using (var writer = new NpyStreamWriter(path, shape))
                {
                    int done = 0;
                    foreach (var (t, e) in results)
                    {
                        var values = (tokens ? t : e)!;
                        writer.Append<float>(values);
                        int n = values.Length / rowShape.Aggregate(1, (a, b) => a * b);
                        done += n;
                        progress.Advance(n);
                    }
                    writer.Commit();
                    progress.Done();
                }
                // The index last: a shard is done when its .npy.txt lists its inputs.
                WriteIndex(path + ".txt", inputs);
                Console.WriteLine($"Wrote {path} [{string.Join(", ", shape)}] and {path}.txt");
            }
            return 0;
        });
        return command;
    }

    private static (List<string> Inputs, List<string?>? Labels) Inputs(string[]? images, string? data, bool video, bool skipUnreadable)
    {
        if (data is not null && images is { Length: > 0 })
            throw new ArgumentException("Give --images or --data, not both.");
        if (data is not null)
        {
            var examples = LabeledFolder.Read(data, video, skipUnreadable);
            return (examples.Select(e => e.Path).ToList(), examples.Select(e => (string?)e.Label).ToList());
        }
        if (images is not { Length: > 0 })
            throw new ArgumentException("Nothing to featurize: give --images PATH... (files or folders) or --data DIR (a folder per class).");
        return (video ? InputPaths.ExpandVideos(images) : InputPaths.Expand(images, InputPaths.ImageExtensions, "image", skipUnreadable), null);
    }

    /// <summary>Whether <paramref name="path"/> is a finished output for exactly these inputs and this encoder.</summary>
    private static bool IsDone(string path, bool parquet, List<string> inputs, int[] rowShape, string fingerprint)
    {
        if (!File.Exists(path)) return false;
        try
        {
            if (parquet)
            {
                var info = FeatureParquet.ReadInfo(path);
                return info.Shape.SequenceEqual(rowShape) && info.Fingerprint == fingerprint && FeatureParquet.ReadPaths(path).SequenceEqual(inputs);
            }
            var index = path + ".txt";
            return File.Exists(index) && File.ReadAllLines(index).SequenceEqual(inputs)
                && Npy.ReadShape(path).SequenceEqual([(long)inputs.Count, .. rowShape.Select(d => (long)d)]);
        }
        catch (InvalidDataException)
        {
            return false; // unreadable: featurize it again
        }
    }

    internal static void WriteIndex(string path, IEnumerable<string> inputs)
    {
        var tmp = path + ".tmp";
        File.WriteAllLines(tmp, inputs);
        File.Move(tmp, path, overwrite: true);
    }
}

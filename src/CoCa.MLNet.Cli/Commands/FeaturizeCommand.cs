using CoCa.MLNet.Cli.Features;
using System.CommandLine;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Demo;
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
        var model = new Option<string>("--model", "-m") { Description = "Converted model folder (from coca convert)", Required = true }
            .Existing(ExpectedInput.ConvertedModel);
        var images = new Option<string[]>("--images", "-i") { Description = "Image (or, with --video, video) files or folders (a folder: its files sorted by name)", AllowMultipleArgumentsPerToken = true }
            .BatchInputs("image (or, with --video, video) files or folders of them");
        var data = new Option<string?>("--data", "-d") { Description = "Instead of --images: a folder-per-class dataset (as for coca train); the class folder names become labels" }
            .Existing(ExpectedInput.ClassFolders);
        var video = new Option<bool>("--video") { Description = "Inputs are videos or folders of frame images: tokens become [N,F,T,D], embeddings the mean over frames" };
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var output = new Option<string>("--output") { Description = "What to write: tokens ([N,T,D], the frozen features) or embedding ([N,E])", DefaultValueFactory = _ => "tokens" };
        output.OneOf(["tokens", "embedding"]);
        var format = new Option<string>("--format") { Description = "npy (FILE.npy + FILE.npy.txt listing the inputs) or parquet (path, label, features, shape in the metadata); not given, an --out FILE ending in .parquet is written as Parquet", DefaultValueFactory = _ => "npy" };
        format.OneOf(["npy", "parquet"]);
        var shard = new Option<string?>("--shard") { Description = "I/N: featurize only the I-th (from 0) of N contiguous blocks of the inputs; --out is then a folder and the shard's file part-IIIII-of-NNNNN; a finished shard is skipped while its input files are unchanged (a .npy shard keeps their hash in FILE.npy.inputs.sha256)" }
            .Format(text => ShardSpec.TryParse(text, out _) ? null : ShardSpec.Malformed(text), "0/4", "4/4", "1", "-1/2", "a/b", "0/0");
        var outFile = new Option<string>("--out", "-o") { Description = "The file to write (with --shard: the folder of shard files)", Required = true }
            .OutputFile(r => r.GetValue(format) == "parquet" ? "features.parquet" : "features.npy",
                r => r.Given(shard) ? "the folder that holds the shard files (with --shard)" : null);
        var batch = new Option<int>("--batch-size") { Description = "Images per encoder call", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core available to the process)" }.Between(0, Runtime.OnnxExecutionOptions.MaxThreads);
        var device = OptionChecks.Device("CUDA needs the GPU build, -p:OnnxRuntime=Gpu; falls back to the CPU");
        var gpu = OptionChecks.LegacyGpu();
        var skipUnreadable = InputPaths.SkipUnreadableOption();
        var command = new Command("featurize", "Extract CoCa features of images or videos into a .npy or Parquet file (or one shard of them)")
        {
            model, images, data, video, frames, output, format, shard, outFile, batch, threads, device, gpu, skipUnreadable,
        };
        command.Validators.Add(r =>
        {
            if (r.Given(images) && r.Given(data)) r.AddError($"Give {images.Name} or {data.Name}, not both.");
            else if (!r.Given(images) && !r.Given(data))
                r.AddError($"Nothing to featurize: give {images.Name} PATH... (files or folders) or {data.Name} DIR (a folder per class).");
            // An --out named for the other format would hold what its name denies (a .parquet file of NumPy bytes).
            if (!r.Given(shard) && r.Given(format) && r.GetValue(format) is "npy" or "parquet" && r.GetValue(outFile) is { } o
                && FormatOfName(o) is { } named && named != r.GetValue(format))
                r.AddError($"{outFile.Name} '{o}' names a .{named} file but {format.Name} is {r.GetValue(format)}: name it .{r.GetValue(format)}, or leave {format.Name} out.");
        });
        command.SetAction(parse =>
        {
            bool isVideo = parse.GetValue(video);
            var spec = parse.GetValue(shard) is { } shardText ? ShardSpec.Parse(shardText) : null;
            var path = parse.GetValue(outFile)!;
            bool parquet = parse.Given(format) ? parse.GetValue(format) == "parquet" : spec is null && FormatOfName(path) == "parquet";
            if (spec is null) OptionChecks.CheckOutputFile(path, outFile.Name, parquet ? "features.parquet" : "features.npy");
            var missing = new List<string>();
            var (inputs, labels) = Inputs(parse.GetValue(images), parse.GetValue(data), isVideo, parse.GetValue(skipUnreadable), missing);
            foreach (var line in missing) Console.Error.WriteLine($"coca: {line}");
            if (inputs.Count == 0) return 1;   // every input was missing, each named
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
            int batchSize = parse.GetValue(batch);
            var videos = isVideo ? new CoCaVideoFeatureExtractor(extractor, frameCount, batchSize) : null;
            int step = videos?.VideosPerBatch ?? batchSize;
            int total = inputs.Count;
            var (first, length) = spec?.Range(total, step) ?? (0, total);
            var shardFacts = new FeatureShard(spec?.Index ?? 0, spec?.Count ?? 1, first, length, total, FeatureShard.HashInputs(inputs, labels));
            if (spec is not null)
            {
                Console.WriteLine(length > 0
                    ? $"Shard {spec}: inputs {first}..{first + length - 1} of {total}"
                    : $"Shard {spec}: no inputs; writing an empty shard file so that the set stays complete");
                if (TooFewBatches(spec, total, step, isVideo ? frameCount : null, empty: length == 0) is { } note) Console.Error.WriteLine($"coca: note: {note}");
                inputs = inputs.GetRange(first, length);
                labels = labels?.GetRange(first, length);
                var folder = path;
                path = Path.Combine(folder, spec.FileName(parquet ? ".parquet" : ".npy"));
                OptionChecks.CheckOutputFile(path, outFile.Name, spec.FileName(parquet ? ".parquet" : ".npy"));
                // Temporary files of shard runs that were killed (a live run holds its own, so it keeps them).
                AtomicFile.RemoveAbandoned(folder, AtomicFile.TemporaryPattern("part-*"));
                if (IsDone(path, parquet, inputs, rowShape, fingerprint, shardFacts))
                {
                    Console.WriteLine($"Shard already done: {path} ({inputs.Count} inputs); skipped");
                    return 0;
                }
            }

            Console.WriteLine($"ONNX Runtime: {extractor.Encoder.IntraOpThreads} intra-op threads, {extractor.Encoder.OverlappingThreads} decoding ahead ({CpuBudget.AvailableCores} cores available)");
            OptionChecks.NoteCpuFallback(execution, extractor.Encoder.OnGpu);
            // A shard keeps what its inputs held, each batch hashed as the pipeline takes it, before it is read: a
            // file changed later makes the next run's hash differ, so that run featurizes the shard again.
            using var contents = spec is null ? null : new FeatureShard.ContentsHasher();
            var chunks = Enumerable.Range(0, (inputs.Count + step - 1) / step).Select(k =>
            {
                var chunk = inputs.GetRange(k * step, Math.Min(step, inputs.Count - k * step));
                foreach (var input in chunk) contents?.Add(input);
                return (IReadOnlyList<string>)chunk;
            });
            // Pipelined: the next chunk is decoded and preprocessed while this one is encoded. An input that cannot be
            // read is named and left out; the others are featurized, and the exit code is then 1.
            var results = videos is null ? extractor.ExtractReadableBatches(chunks, tokens, !tokens) : videos.ExtractReadableBatches(chunks, tokens, !tokens);
            var progress = new ConsoleProgress(isVideo ? "featurize videos" : "featurize", inputs.Count, Console.Error);
            int rowLength = rowShape.Aggregate(1, (a, b) => a * b);
            var written = new List<string>(inputs.Count);
            int unreadable = 0;
            using var parquetWriter = parquet ? new FeatureParquetWriter(path, tokens ? "tokens" : "embedding", rowShape, fingerprint, shardFacts) : null;
            using var npyWriter = parquet ? null : new NpyStreamWriter(path, [inputs.Count, .. rowShape.Select(d => (long)d)]);
            int start = 0;
            foreach (var batch in results)
            {
                foreach (var bad in batch.Unreadable)
                {
                    progress.Interrupt();
                    Console.Error.WriteLine($"coca: {bad.Reason}");
                    unreadable++;
                }
                var values = (tokens ? batch.Tokens : batch.Embeddings)!;
                var kept = batch.Kept.Select(k => inputs[start + k]).ToList();
                parquetWriter?.Append(kept, batch.Kept.Select(k => labels?[start + k]).ToList(), values);
                npyWriter?.Append<float>(values.AsSpan(0, kept.Count * rowLength));
                written.AddRange(kept);
                start += batch.Kept.Length + batch.Unreadable.Count;
                progress.Advance(batch.Kept.Length + batch.Unreadable.Count);
            }
            progress.Done();
            if (written.Count == 0 && unreadable > 0)
                return 1;   // no input could be read (each named above): nothing to write, an older file stays
            string left = unreadable + missing.Count == 0 ? "" : $" ({unreadable + missing.Count} input{(unreadable + missing.Count == 1 ? "" : "s")} left out, named above)";
            if (parquetWriter is not null)
            {
                parquetWriter.Commit(contents?.Finish());
                Console.WriteLine($"Wrote {path}: {written.Count} rows of {(tokens ? "tokens" : "embedding")} [{string.Join(", ", rowShape)}]{left}");
            }
            else
            {
                // The index goes first and comes back last: a shard is done when its .npy.txt lists its inputs, and a
                // run killed between the two leaves a .npy without an index, never beside an older run's index.
                File.Delete(path + ".txt");
                npyWriter!.Commit(written.Count);
                if (contents is not null) AtomicFile.WriteAllText(path + ContentsSuffix, contents.Finish() + "\n");
                AtomicFile.WriteAllLines(path + ".txt", written);
                Console.WriteLine($"Wrote {path} [{string.Join(", ", [written.Count, .. rowShape])}] and {path}.txt{left}");
            }
            return unreadable == 0 && missing.Count == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>"npy" or "parquet" when <paramref name="path"/> ends so (any case); null otherwise.</summary>
    private static string? FormatOfName(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".npy" => "npy",
        ".parquet" => "parquet",
        _ => null,
    };

    /// <summary>The inputs of --images, or of --data with their labels (the parse-time check made sure one is given).</summary>
    private static (List<string> Inputs, List<string?>? Labels) Inputs(string[]? images, string? data, bool video, bool skipUnreadable, List<string> missing)
    {
        if (data is not null)
        {
            var examples = LabeledFolder.Read(data, video, skipUnreadable);
            return (examples.Select(e => e.Path).ToList(), examples.Select(e => (string?)e.Label).ToList());
        }
        images ??= [];
        return (video ? InputPaths.ExpandVideos(images, missing) : InputPaths.Expand(images, InputPaths.ImageExtensions, "image", skipUnreadable, missing), null);
    }

    /// <summary>
    /// Null when the inputs make a batch for every shard; else why some shards are empty (shards are cut on batch
    /// boundaries) and the --batch-size that fills them all (<paramref name="framesPerVideo"/>: null for images).
    /// </summary>
    private static string? TooFewBatches(ShardSpec spec, int total, int inputsPerBatch, int? framesPerVideo, bool empty)
    {
        long batches = spec.Batches(total, inputsPerBatch);
        if (batches >= spec.Count) return null;
        var what = empty ? $"shard {spec} is empty" : $"some of the {spec.Count} shards are empty";
        var inputs = framesPerVideo is null ? "inputs" : "videos";
        var fix = spec.LargestBatchFillingEveryShard(total) is int largest and > 0
            // A video batch holds --batch-size / frames videos (at least one).
            ? $"a --batch-size of {(largest + 1) * (framesPerVideo ?? 1) - 1} or less gives every shard {inputs}"
            : $"{total} {inputs} fill at most {total} shards (--shard I/{total})";
        return $"{what}: {total} {inputs} make {batches} batch{(batches == 1 ? "" : "es")} of {inputsPerBatch}, fewer than {spec.Count} shards; {fix}.";
    }

    /// <summary>
    /// Beside a .npy shard: <see cref="FeatureShard.HashContents"/> of the inputs it was written from (a Parquet shard
    /// keeps it in its metadata).
    /// </summary>
    internal const string ContentsSuffix = ".inputs.sha256";

    /// <summary>
    /// Whether <paramref name="path"/> is a finished output for exactly these inputs, holding what they hold now
    /// (their contents are read last, only when all else matches), and this encoder.
    /// </summary>
    private static bool IsDone(string path, bool parquet, List<string> inputs, int[] rowShape, string fingerprint, FeatureShard shard)
    {
        if (!File.Exists(path)) return false;
        try
        {
            if (parquet)
            {
                var info = FeatureParquet.ReadInfo(path);
                return info.Shape.SequenceEqual(rowShape) && info.Fingerprint == fingerprint && info.Shard == shard
                    && info.ContentsHash is { } stored && FeatureParquet.ReadPaths(path).SequenceEqual(inputs)
                    && stored == FeatureShard.HashContents(inputs);
            }
            var index = path + ".txt";
            return File.Exists(index) && File.ReadAllLines(index).SequenceEqual(inputs)
                && Npy.ReadShape(path).SequenceEqual([(long)inputs.Count, .. rowShape.Select(d => (long)d)])
                && File.Exists(path + ContentsSuffix) && File.ReadAllText(path + ContentsSuffix).Trim() == FeatureShard.HashContents(inputs);
        }
        catch (InvalidDataException)
        {
            return false; // unreadable: featurize it again
        }
    }
}

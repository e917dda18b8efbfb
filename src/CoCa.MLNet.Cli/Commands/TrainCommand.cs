using CoCa.MLNet.Featurization;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.IO;
using System.CommandLine;
using CoCa.MLNet.Cli.Pooling;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca train --model DIR --data DIR --out MODEL.zip</c>: trains an attentional pooler on the frozen CoCa tokens of
/// a folder-per-class dataset and saves the whole pipeline (featurizer + pooler + label mapping) as one file.
/// <c>coca train --checkpoint DIR ...</c> fine-tunes the encoder of an open_clip checkpoint with the pooler instead
/// (the paper's "finetuned" protocol); the saved file has the same parts, with the fine-tuned encoder.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Frozen features: a converted model folder (from coca convert); the encoder stays as it is and only the new pooler trains" }
            .Existing(ExpectedInput.ConvertedModel);
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Fine-tuning instead: an open_clip CoCa checkpoint folder (open_clip_config.json + weights, what coca convert reads); its encoder trains with the new pooler" }
            .Existing(ExpectedInput.Checkpoint);
        var trainableBlocks = new Option<string?>("--trainable-blocks") { Description = "With --checkpoint: the encoder blocks that train, counted from the top: N or all (default all; the lower ones run once per image and are cached)" }
            .Format(text => TryParseTrainableBlocks(text, out _) ? null : $"--trainable-blocks '{text}': expected a number of encoder blocks (0 or more) or 'all'.", "all", "some", "-1", "1.5");
        var encoderLr = new Option<double?>("--encoder-lr") { Description = "With --checkpoint: peak learning rate of the encoder (default: --lr / 10)" }.Positive();
        var augment = new Option<bool>("--augment") { Description = "With --checkpoint: random resized crops and flips while training (seeded; turns the lower-block cache off)" };
        var data = new Option<string?>("--data", "-d") { Description = "Dataset folder: one sub-folder per class holding its images (with --video: video files or folders of frames)" }
            .Existing(ExpectedInput.ClassFolders);
        var features = new Option<string?>("--features") { Description = "Instead of --data: a folder of Parquet feature shards from `coca featurize --data DIR --format parquet --shard I/N` (read shard by shard)" }
            .Existing("a folder of Parquet feature shards (from coca featurize), or one such file");
        var outFile = new Option<string>("--out", "-o") { Description = "The model file to write (MODEL.zip)", Required = true }.OutputFile("classifier.zip");
        var epochs = new Option<int?>("--epochs") { Description = "Maximum passes over the data; early stopping on the validation split usually ends sooner (default: enough for 2,000 optimizer steps, 30 to 1,000 epochs; fine-tuning: 500 steps, 10 to 100 epochs)" }.AtLeast(1);
        var batch = new Option<int?>("--batch-size") { Description = "Examples per optimizer step (default: a tenth of the training examples, a power of two from 8 to 64)" }.AtLeast(1);
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW, warmup then cosine decay)", DefaultValueFactory = _ => 1e-3 }.Positive();
        var queries = new Option<int>("--queries") { Description = "Learnable queries of the pooler", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var heads = new Option<int?>("--heads") { Description = "Attention heads (default: token width / 64)" }.AtLeast(1);
        var validation = new Option<double>("--validation-fraction") { Description = "Share of examples held out for early stopping (0: none)", DefaultValueFactory = _ => 0.1 }.Fraction();
        var seed = new Option<int>("--seed") { Description = "Seed of weights, shuffling and the validation split (same seed and data: same model)", DefaultValueFactory = _ => 0 }.AnyWholeNumber();
        var device = OptionChecks.Device("CUDA needs a CUDA build of libtorch");
        var video = new Option<bool>("--video") { Description = "Examples are videos (video files or folders of frame images)" };
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var cache = new Option<string?>("--cache") { Description = "Folder for the float16 feature cache, reused by later runs on the same data and model" }
            .OutputFolder("the folder of the feature cache");
        var cacheLimit = new Option<string?>("--cache-limit") { Description = "Most the --cache folder may hold, like 20G or 500M: the least recently used cache files go first (default: no limit)" }
            .Format(text => ByteSize.TryParse(text, out _) ? null : $"--cache-limit must be a size like 20G, 500M or 1.5T (got '{text}').", "20G", "-1G", "lots", "5X");
        var skipUnreadable = InputPaths.SkipUnreadableOption();
        var command = new Command("train", "Train a classifier on a folder-per-class dataset: a new attentional pooler over frozen CoCa tokens (--model), or fine-tuned with the encoder (--checkpoint)")
        {
            model, checkpoint, trainableBlocks, encoderLr, augment, data, features, outFile, epochs, batch, lr, queries, heads, validation, seed, device, video, frames, cache, cacheLimit, skipUnreadable,
        };
        command.Validators.Add(r =>
        {
            if (r.Given(model) == r.Given(checkpoint))
                r.AddError("Give the encoder as --model DIR (a converted model: frozen features) or --checkpoint DIR (an open_clip checkpoint folder: fine-tuning), one of them.");
            else if (r.Given(data) == r.Given(features))
                r.AddError("Give the training data as --data DIR (a folder per class) or --features DIR (feature shards), one of them.");
            else if (r.Given(checkpoint) && r.Given(features))
                r.AddError("--features holds a frozen encoder's tokens; fine-tuning (--checkpoint) reads the images themselves: give --data DIR.");
            else if (r.Given(cacheLimit) && !r.Given(cache))
                r.AddError("--cache-limit bounds the feature cache folder: give it with --cache DIR.");
            else if (r.Given(model) && (r.Given(trainableBlocks) || r.Given(encoderLr) || r.Given(augment)))
                r.AddError("--trainable-blocks, --encoder-lr and --augment fine-tune an encoder: give --checkpoint DIR (an open_clip checkpoint folder) instead of --model.");
        });
        command.SetAction(parse =>
        {
            bool isVideo = parse.GetValue(video);
            TryParseTrainableBlocks(parse.GetValue(trainableBlocks), out int? blocks);
            OptionChecks.CheckOutputFile(parse.GetValue(outFile)!, outFile.Name, "classifier.zip");
            if (parse.GetValue(checkpoint) is { } checkpointDir)
                CoCa.MLNet.Training.Checkpoints.CoCaCheckpointFolder.RequireCheckpointFolder(checkpointDir);
            CheckAgainstTheEncoder(parse.GetValue(model), parse.GetValue(checkpoint), parse.GetValue(heads), blocks);
            var examples = parse.GetValue(data) is { } folder ? LabeledFolder.Read(folder, isVideo, parse.GetValue(skipUnreadable)) : null;
            // The options both classifiers take (frozen pooler and fine-tuned) the same way.
            void Shared(PoolerClassifierOptions o)
            {
                o.NumberOfEpochs = parse.GetValue(epochs);
                o.BatchSize = parse.GetValue(batch);
                o.LearningRate = parse.GetValue(lr);
                o.NumberOfQueries = parse.GetValue(queries);
                o.NumberOfHeads = parse.GetValue(heads);
                o.ValidationFraction = parse.GetValue(validation);
                o.Seed = parse.GetValue(seed);
                o.Device = parse.GetValue(device)!;
                o.FeatureCacheLimitBytes = parse.GetValue(cacheLimit) is { } limit && ByteSize.TryParse(limit, out long bytes) ? bytes : null;
            }
            if (parse.GetValue(checkpoint) is { } fineTuneFrom)
            {
                var fineTuneMl = new MLContext(parse.GetValue(seed));
                PrintTrainerLog(fineTuneMl, Console.Out);
                var classList = ClassFolders.Classes(examples!);
                Console.WriteLine($"Fine-tuning {fineTuneFrom} on {examples!.Count} {ExampleNoun(examples.Count, isVideo)} of {CountedClasses(classList)}");
                var fineTuneOptions = new FineTunedCoCaOptions
                {
                    Checkpoint = fineTuneFrom,
                    TrainableBlocks = blocks,
                    EncoderLearningRate = parse.GetValue(encoderLr),
                    Augment = parse.GetValue(augment),
                    FeatureCacheDirectory = parse.GetValue(cache),
                };
                Shared(fineTuneOptions);
                var fineTuned = PoolerPipeline.TrainFineTuned(fineTuneMl, examples, isVideo, parse.GetValue(frames), fineTuneOptions);
                var fineTunedPath = parse.GetValue(outFile)!;
                PoolerPipeline.Save(fineTuneMl, fineTuned, fineTunedPath);
                Console.WriteLine($"Saved {fineTunedPath} ({new FileInfo(fineTunedPath).Length / 1024} KiB): fine-tuned featurizer + attentional pooler + label mapping");
                return 0;
            }
            var options = new AttentionalPoolerOptions { FeatureCacheDirectory = parse.GetValue(cache) };
            Shared(options);
            var ml = new MLContext(parse.GetValue(seed));
            PrintTrainerLog(ml, Console.Out);
            ITransformer trained;
            if (examples is null)
            {
                var shards = parse.GetValue(features)!;
                trained = PoolerPipeline.TrainFromShards(ml, parse.GetValue(model)!, shards, isVideo, parse.GetValue(frames), options, out int rows, out var shardClasses,
                    warning => Console.Error.WriteLine($"coca: warning: {warning}"));
                Console.WriteLine($"Trained on {rows} precomputed {ExampleNoun(rows, isVideo)} of {CountedClasses(shardClasses)} from {shards}");
            }
            else
            {
                var classes = ClassFolders.Classes(examples);
                Console.WriteLine($"Training on {examples.Count} {ExampleNoun(examples.Count, isVideo)} of {CountedClasses(classes)}");
                trained = PoolerPipeline.Train(ml, parse.GetValue(model)!, examples, isVideo, parse.GetValue(frames), options);
            }
            var path = parse.GetValue(outFile)!;
            PoolerPipeline.Save(ml, trained, path);
            Console.WriteLine($"Saved {path} ({new FileInfo(path).Length / 1024} KiB): featurizer + attentional pooler + label mapping");
            return 0;
        });
        return command;
    }

    /// <summary>Shows the trainers' messages (feature extraction, per-epoch loss and accuracy) as they run.</summary>
    internal static void PrintTrainerLog(MLContext ml, TextWriter writer, string indent = "")
    {
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Info && (e.Source.StartsWith("AttentionalPooler", StringComparison.Ordinal) || e.Source.StartsWith("FineTunedCoCa", StringComparison.Ordinal)))
                writer.WriteLine(indent + e.RawMessage);
        };
    }

    /// <summary>"image", "videos": the noun for <paramref name="count"/> examples.</summary>
    private static string ExampleNoun(int count, bool video) => (video ? "video" : "image") + (count == 1 ? "" : "s");

    /// <summary>"1 class (circle)", "2 classes (circle, square)".</summary>
    private static string CountedClasses(string[] classes) => $"{classes.Length} class{(classes.Length == 1 ? "" : "es")} ({string.Join(", ", classes)})";

    /// <summary>
    /// --heads and --trainable-blocks against the encoder's shape, read from its description (not its weights) before
    /// the data is: what the trainers would refuse later in their own terms.
    /// </summary>
    private static void CheckAgainstTheEncoder(string? model, string? checkpoint, int? heads, int? trainableBlocks)
    {
        if (heads is null && trainableBlocks is null) return;
        var (vision, encoder) = checkpoint is not null
            ? (CoCaConfigs.FromOpenClipConfigFile(Path.Combine(checkpoint, CheckpointLoader.HubConfigFile)).Vision, $"checkpoint '{checkpoint}'")
            : (ConvertedModel.Open(model!).Config.Vision, $"model '{model}'");
        int width = vision.Width;
        if (heads is int h && width % h != 0)
        {
            var divisors = Enumerable.Range(1, width).Where(d => width % d == 0).ToList();
            throw new OptionValueException($"--heads {h} must divide the token width {width} of {encoder} (try {string.Join(", ", divisors.Take(6))}{(divisors.Count > 6 ? ", ..." : "")}).");
        }
        if (trainableBlocks > vision.Layers)
            throw new OptionValueException($"--trainable-blocks {trainableBlocks} is more than the {vision.Layers} blocks of the vision tower of {encoder} (give 0 to {vision.Layers}, or all).");
    }

    /// <summary>"all" (or not given: null) or a block count of at least 0.</summary>
    private static bool TryParseTrainableBlocks(string? text, out int? blocks)
    {
        blocks = null;
        if (text is null || text.Equals("all", StringComparison.OrdinalIgnoreCase)) return true;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)) return false;
        blocks = n;
        return true;
    }
}

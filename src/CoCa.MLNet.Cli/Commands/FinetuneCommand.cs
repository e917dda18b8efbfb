using System.CommandLine;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca finetune --checkpoint DIR --data PAIRS.csv --out DIR [...]</c>: trains the whole CoCa on image–caption pairs
/// with CoCa's contrastive + captioning objective and writes it in open_clip's hub layout.
/// </summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "open_clip CoCa folder (open_clip_config.json + weights); a folder with only open_clip_config.json trains from scratch", Required = true }
            .Existing("an open_clip CoCa folder (open_clip_config.json, with or without weights)");
        var data = new Option<string>("--data", "-d") { Description = "Training pairs: CSV with header image,caption (paths relative to the CSV) or JSON Lines", Required = true }
            .Existing(ExpectedInput.Pairs);
        var outDir = new Option<string>("--out", "-o") { Description = "Output folder: the model in open_clip's hub layout, checkpoints/epoch_N, the vocabulary", Required = true }
            .OutputFolder("the folder to write the model, its checkpoints and the vocabulary to");
        var vocab = new Option<string?>("--vocab") { Description = "open_clip's bpe_simple_vocab_16e6.txt.gz (default: the one in the checkpoint folder)" }
            .Existing(ExpectedInput.Vocabulary);
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var batch = new Option<int>("--batch-size") { Description = "Pairs per step (the contrastive loss's negatives)", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var accumulation = new Option<int>("--accumulation") { Description = "Batches per optimizer step (gradient accumulation)", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (AdamW, warmup then cosine decay; default: 5e-4 from scratch as open_clip, 1e-5 from weights)" }.Positive();
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay of weight matrices (open_clip's groups)", DefaultValueFactory = _ => 0.2 }.NotNegative();
        var warmup = new Option<double?>("--warmup") { Description = "Share of steps for linear warmup (default: from scratch open_clip's 10,000 steps, at most a tenth of the run; from weights 5%)" }
            .InRange(0, true, 1, true);
        var clip = new Option<double>("--grad-clip") { Description = "Gradient norm clip (0: none)", DefaultValueFactory = _ => 1.0 }.NotNegative();
        var contrastive = new Option<double>("--contrastive-weight") { Description = "Weight of the contrastive loss", DefaultValueFactory = _ => 1.0 }.NotNegative();
        var caption = new Option<double>("--caption-weight") { Description = "Weight of the captioning loss", DefaultValueFactory = _ => 2.0 }.NotNegative();
        caption.Validators.Add(r =>
        {
            if (r.TryGetValid(contrastive, out double c) && r.TryGetValid(caption, out double w) && c == 0 && w == 0)
                r.AddError($"{contrastive.Name} and {caption.Name} are both 0: no loss, nothing would train.");
        });
        var freezeVision = new Option<bool>("--freeze-vision") { Description = "Lock the image tower (LiT-style)" };
        var freezeText = new Option<bool>("--freeze-text") { Description = "Lock the unimodal text tower" };
        var freezeDecoder = new Option<bool>("--freeze-decoder") { Description = "Lock the multimodal (captioning) decoder" };
        var validation = new Option<string?>("--validation") { Description = "Validation pairs (same format), evaluated after every epoch" }
            .Existing(ExpectedInput.Pairs);
        var captionMetrics = new Option<bool>("--caption-metrics")
        {
            Description = "Also greedy-caption the --validation images after every epoch and print CIDEr and BLEU-4; adds a decoding of every validation image to each epoch",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue from the last epoch checkpoint in --out (same data and settings; the learning rate may change)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Empty --out first when it holds an earlier run (without it, such a folder is refused)" };
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation and shuffling", DefaultValueFactory = _ => 0 }.AnyWholeNumber();
        var device = OptionChecks.Device("CUDA needs a CUDA build of libtorch");
        var every = new Option<int>("--progress-every") { Description = "Print the training losses every N steps", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16: bfloat16 matrix products on fp32 weights (mixed precision; fp32 where the CPU lacks bfloat16)", DefaultValueFactory = _ => "fp32" }
            .OneOf(["fp32", "bf16"]);
        var checkpointActivations = new Option<bool>("--checkpoint-activations") { Description = "Recompute each transformer block in the backward pass instead of keeping its activations (less memory, slower steps)" };
        var command = new Command("finetune", "Train a whole CoCa on image-caption pairs (contrastive + captioning loss), open_clip-compatible")
        {
            checkpoint, data, outDir, vocab, epochs, batch, accumulation, lr, weightDecay, warmup, clip, contrastive, caption,
            freezeVision, freezeText, freezeDecoder, validation, captionMetrics, resume, overwrite, seed, device, every, precision, checkpointActivations,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(resume) && r.GetValue(overwrite))
                r.AddError("--resume continues the run in --out and --overwrite empties it: give one of them.");
            else if (r.GetValue(freezeVision) && r.GetValue(freezeText) && r.GetValue(freezeDecoder))
                r.AddError($"{freezeVision.Name}, {freezeText.Name} and {freezeDecoder.Name} together leave nothing to train but the logit scale: drop one.");
            if (r.GetValue(captionMetrics) && r.GetValue(validation) is null)
                r.AddError("--caption-metrics captions the validation images: give --validation PAIRS.csv with it.");
        });
        command.SetAction(parse =>
        {
            var checkpointDir = parse.GetValue(checkpoint)!;
            var train = ImageCaptionPairs.Read(parse.GetValue(data)!);
            var validationPairs = parse.GetValue(validation) is { } v ? ImageCaptionPairs.Read(v) : null;
            using var cancel = new CancellationTokenSource();
            using var stopAtNextStep = Interruption.StopGracefully(cancel,
                "coca: stopping at the next step; the last epoch checkpoint stays (continue with --resume). Ctrl+C again stops at once.");
            try
            {
                var clipNorm = parse.GetValue(clip);
                var result = CoCaFineTuner.Train(new CoCaFineTuneOptions
                {
                    Checkpoint = checkpointDir,
                    VocabularyPath = PairsVocabulary.Resolve(parse.GetValue(vocab), checkpointDir),
                    OutputDirectory = parse.GetValue(outDir)!,
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    GradientAccumulationSteps = parse.GetValue(accumulation),
                    LearningRate = parse.GetValue(lr),
                    WeightDecay = parse.GetValue(weightDecay),
                    WarmupFraction = parse.GetValue(warmup),
                    GradientClipNorm = clipNorm > 0 ? clipNorm : null,
                    ContrastiveWeight = parse.GetValue(contrastive),
                    CaptionWeight = parse.GetValue(caption),
                    FreezeVision = parse.GetValue(freezeVision),
                    FreezeText = parse.GetValue(freezeText),
                    FreezeDecoder = parse.GetValue(freezeDecoder),
                    CaptionMetrics = parse.GetValue(captionMetrics),
                    Resume = parse.GetValue(resume),
                    Overwrite = parse.GetValue(overwrite),
                    Seed = parse.GetValue(seed),
                    Device = parse.GetValue(device)!,
                    ProgressEverySteps = parse.GetValue(every),
                    Cancellation = cancel.Token,
                    Progress = new InlineProgress<CoCaFineTuneProgress>(Console.WriteLine),
                    Log = new InlineProgress<string>(Console.WriteLine),
                    Precision = parse.GetValue(precision) == "bf16" ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
                    CheckpointActivations = parse.GetValue(checkpointActivations),
                }, train, validationPairs);
                Console.WriteLine(result.EpochsTrained > 0
                    ? $"Wrote {result.OutputDirectory} ({result.Steps} step{(result.Steps == 1 ? "" : "s")}, {result.ExamplesPerSecond:F1} pairs/s); convert it with: coca convert {result.OutputDirectory} --out MODEL_DIR"
                    : $"{result.OutputDirectory} holds the finished run ({result.Steps} steps); convert it with: coca convert {result.OutputDirectory} --out MODEL_DIR");
                return 0;
            }
            catch (OperationCanceledException)
            {
                return 130;
            }
        });
        return command;
    }
}

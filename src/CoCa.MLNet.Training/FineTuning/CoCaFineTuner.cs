using System.Diagnostics;
using System.Globalization;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Text;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.Devices;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>What a <see cref="CoCaFineTuner.Train"/> run produced.</summary>
public sealed record CoCaFineTuneResult(string OutputDirectory, int Epochs, long Steps, double ExamplesPerSecond, CoCaPairMetrics? Validation)
{
    /// <summary>Epochs trained by this call: 0 when a resumed run had nothing left to train (then <see cref="ExamplesPerSecond"/> is 0).</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The peak learning rate the run used (given, or the defaults of its start).</summary>
    public double LearningRate { get; init; }

    /// <summary>The last epoch's caption metrics (<see cref="CoCaFineTuneOptions.CaptionMetrics"/>); null without them.</summary>
    public ValidationCaptionMetrics? CaptionMetrics { get; init; }
}

/// <summary>
/// Trains a whole open_clip CoCa on image–caption pairs with CoCa's objective: AdamW with open_clip's parameter groups,
/// linear warmup + cosine decay, gradient clipping and accumulation, optional frozen towers, <c>logit_scale</c> clamped to
/// [0, ln 100] after every step (open_clip's training loop). Images are decoded batch by batch, so memory is bounded
/// by the batch. After every epoch it writes a checkpoint (<c>checkpoints/epoch_N</c>: the model in open_clip's hub
/// layout, the optimizer's moments, the step) from which <see cref="CoCaFineTuneOptions.Resume"/> continues; at the end
/// the model goes to the output folder itself in the hub layout (with the vocabulary), ready for <c>coca convert</c>
/// and open_clip's <c>create_model</c>. A step whose loss or gradient norm is not finite stops the run with a
/// <see cref="TrainingDivergedException"/> before it is applied: the checkpoints saved before stay, nothing after is written.
/// </summary>
public static class CoCaFineTuner
{
    private static readonly double MaxLogitScale = Math.Log(100);

    /// <summary>From this many training pairs on, checking that their images can be read takes long enough to say so.</summary>
    private const int ManyImages = 2000;

    /// <exception cref="TrainingDivergedException">A loss, gradient norm or the weights stopped being finite (learning rate too high).</exception>
    /// <exception cref="InvalidOperationException">The output folder holds an earlier run (and neither Resume nor Overwrite is set), or Resume finds nothing to continue or another run.</exception>
    /// <exception cref="PlatformNotSupportedException">libtorch cannot load here (the message says why).</exception>
    /// <exception cref="InvalidDataException">A training or validation image cannot be read, or a training pair is a video (each such line named), found before any training.</exception>
    public static CoCaFineTuneResult Train(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair> train, IReadOnlyList<ImageCaptionPair>? validation = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("There are no training pairs.", nameof(train));
        ValidationCaptioner.RequireUsable(options, validation);
        // Every image is decoded once now, before the output folder is touched: one that cannot be read (or a video
        // among the training pairs) is refused with its line, not found in the middle of an epoch — or, for the
        // validation images, after the first epoch — whose training it would throw away.
        if (train.Count >= ManyImages) options.Log?.Report(string.Create(CultureInfo.InvariantCulture, $"Checking that the {train.Count:N0} training images can be read..."));
        PairBatchLoader.CheckImagesReadable(train, "Training pairs", imagesOnly: true);
        if (validation is { Count: > 0 }) PairBatchLoader.CheckImagesReadable(validation, "Validation pairs");
        var device = TorchDevices.Parse(options.Device);
        var tokenizer = ClipTokenizer.FromFile(options.VocabularyPath);
        if (options.Resume && !Directory.Exists(options.OutputDirectory)) throw EpochCheckpointStore.NothingToResume(Path.GetFullPath(options.OutputDirectory));
        using var output = FineTuneOutputFolder.Open(options.OutputDirectory, options.Log);

        EpochCheckpoint? resumeFrom = null;
        FineTuneRunState? saved = null;
        if (options.Resume)
        {
            resumeFrom = output.Checkpoints.LatestToResume();
            saved = resumeFrom.ReadState();
        }
        else if (output.EarlierRunFiles() is { Count: > 0 } earlier)
        {
            if (!options.Overwrite)
                throw new InvalidOperationException(
                    $"Output folder '{output.FullPath}' holds an earlier run ({string.Join(", ", earlier)}, ...): continue it with Resume (--resume), " +
                    "empty it with Overwrite (--overwrite), or choose another folder.");
            output.Empty(InputsOf(options, train, validation));
            options.Log?.Report($"Emptied '{output.FullPath}' (Overwrite).");
        }

        int batchesPerEpoch = Math.Max(1, train.Count / options.BatchSize); // open_clip drops the last partial batch
        int stepsPerEpoch = Math.Max(1, batchesPerEpoch / options.GradientAccumulationSteps);
        long totalSteps = (long)stepsPerEpoch * options.Epochs;
        int scheduledSteps = (int)Math.Min(int.MaxValue, totalSteps);
        bool fromScratch = saved?.FromScratch ?? CoCaCheckpointFolder.IsConfigOnly(options.Checkpoint);
        var plan = FineTuneSchedulePlan.Create(options, fromScratch, scheduledSteps, saved);
        var run = FineTuneRunState.Of(options, train, fromScratch, plan.LearningRate, plan.WarmupSteps);
        if (resumeFrom is { } resumed)
        {
            saved!.RequireContinuedBy(run, resumed.Folder);
            options.Log?.Report($"Resuming from '{resumed.Folder}' (epoch {saved.Epoch} of {saved.Epochs} done, step {saved.Step}): {plan.Description}.");
            if (saved.Epochs != options.Epochs && resumed.Epoch < options.Epochs)
                options.Log?.Report(Replanned(saved, options.Epochs, stepsPerEpoch, plan));
            if (resumed.Epoch >= options.Epochs)
                return NothingLeftToTrain(options, output, resumed, saved, plan);
        }
        else
        {
            options.Log?.Report(fromScratch
                ? $"Training from scratch ('{Path.GetFullPath(options.Checkpoint)}' holds only {CheckpointLoader.HubConfigFile}): {plan.Description}."
                : $"Fine-tuning the weights in '{Path.GetFullPath(options.Checkpoint)}': {plan.Description}.");
        }

        torch.manual_seed(options.Seed);
        using var model = resumeFrom is null
            ? CoCaCheckpointFolder.Load(options.Checkpoint, options.Seed)
            : resumeFrom.LoadModel();
        if (device.type != DeviceType.CPU) model.to(device);
        model.train();
        model.CheckpointActivations = options.CheckpointActivations;
        var precision = BFloat16Support.Resolve(options.Precision, device, options.Log is { } log ? log.Report : null, options.BFloat16Probe);
        var loader = new PairBatchLoader(model.Config, tokenizer);
        if (options.CaptionMetrics) options.Log?.Report(ValidationCaptioner.Describe(model.Config, validation!));

        var trainable = FrozenTowers.Apply(model, options);
        using var optimizer = new AdamWOptimizer(OpenClipWeightDecay.Groups(trainable, options.WeightDecay), options.Beta1, options.Beta2, options.Epsilon);
        int firstEpoch = 1;
        long step = 0;
        string? lastCheckpoint = null;
        if (resumeFrom is { } resume)
        {
            resume.RestoreOptimizer(optimizer);
            firstEpoch = resume.Epoch + 1;
            step = optimizer.StepCount;
            lastCheckpoint = resume.Folder;
        }

        var schedule = new LearningRateSchedule(plan.LearningRate, scheduledSteps, plan.WarmupSteps);
        using var objective = new CoCaObjective(options.ContrastiveWeight, options.CaptionWeight, model.Config.Text.PadId);
        using var accumulationScale = (1.0 / options.GradientAccumulationSteps).ToScalar();
        using var zero = 0.0.ToScalar();
        using var maxLogitScale = MaxLogitScale.ToScalar();
        var trainableTensors = trainable.Select(t => (Tensor)t.Parameter).ToList();
        const string ResumeHint = "continue from it with Resume (--resume) and a lower learning rate";

        var clock = Stopwatch.StartNew();
        long examplesSeen = 0;
        CoCaPairMetrics? lastValidation = null;
        ValidationCaptionMetrics? lastCaptionMetrics = null;
        for (int epoch = firstEpoch; epoch <= options.Epochs; epoch++)
        {
            var order = Shuffled(train.Count, options.Seed, epoch);
            var window = new LossWindow();
            var epochLosses = new LossWindow();
            var windowClock = Stopwatch.StartNew();
            long windowExamples = 0;
            double lr = 0, lastLoss = double.NaN;
            IReadOnlyList<ImageCaptionPair> lastBatch = [];
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                lr = schedule.At((int)Math.Min(int.MaxValue, step));
                for (int a = 0; a < options.GradientAccumulationSteps; a++)
                {
                    int batchIndex = s * options.GradientAccumulationSteps + a;
                    var batch = Batch(train, order, batchIndex, options.BatchSize);
                    lastBatch = batch;
                    using var scope = NewDisposeScope();
                    var (pixels, ids) = loader.Load(batch, device);
                    var loss = StepLoss(model, objective, pixels, ids, precision);
                    // The losses are read for the progress reports anyway (one transfer): a step that is not finite
                    // stops here, before its gradients reach the weights.
                    var values = LossValues.Read(loss);
                    lastLoss = values.Total;
                    if (!double.IsFinite(values.Total))
                        throw new TrainingDivergedException(epoch, step + 1, values.Total, null, lr, lastCheckpoint, ResumeHint);
                    loss.Total.mul(accumulationScale).backward();
                    CustomAutogradNodes.Release();
                    window.Add(values);
                    epochLosses.Add(values);
                    windowExamples += batch.Count;
                    examplesSeen += batch.Count;
                }
                // The global gradient norm (clipped when asked; null: no clipping): a non-finite one stops the run.
                double gradientNorm = DivergenceGuard.ReadGradientNormAndClip(trainableTensors, options.GradientClipNorm ?? 0, device);
                if (!double.IsFinite(gradientNorm))
                    throw new TrainingDivergedException(epoch, step + 1, lastLoss, gradientNorm, lr, lastCheckpoint, ResumeHint);
                optimizer.LearningRate = lr;
                optimizer.Step();
                optimizer.ZeroGrad();
                using (torch.no_grad()) model.LogitScale.clamp_(zero, maxLogitScale);
                step++;
                if (step % options.ProgressEverySteps == 0)
                {
                    var (c, p, t) = window.Mean();
                    options.Progress?.Report(new CoCaFineTuneProgress(epoch, options.Epochs, step, totalSteps, false, c, p, t, lr,
                        windowExamples / Math.Max(windowClock.Elapsed.TotalSeconds, 1e-9)));
                    window = new LossWindow();
                    windowClock.Restart();
                    windowExamples = 0;
                }
            }

            // The last step's update can break the weights although its loss and gradients were finite: never save those.
            if (!DivergenceGuard.AllFinite(trainableTensors))
                throw new TrainingDivergedException(epoch, step, lastLoss, null, lr, lastCheckpoint, ResumeHint);
            // Finite weights can still compute a non-finite loss (an update at lr 1e6 leaves weights of 1e6 whose
            // activations overflow): without validation pairs to show it, the last batch's loss is read again with the
            // weights the epoch ends with (one forward pass), so such weights are never saved as a good checkpoint.
            if (validation is not { Count: > 0 } && LossWith(model, objective, loader, lastBatch, device, precision) is var after && !double.IsFinite(after))
                throw new TrainingDivergedException(epoch, step, after, null, lr, lastCheckpoint, ResumeHint, afterUpdate: true);
            if (validation is { Count: > 0 })
            {
                lastValidation = CoCaPairEvaluator.Evaluate(model, validation, loader, options.BatchSize, device, model.Config.Text.PadId);
                // The evaluator refuses non-finite losses itself; this is the fine-tuner's own word for the same case.
                if (new[] { lastValidation.ContrastiveLoss, lastValidation.CaptionLoss }.FirstOrDefault(l => l is double v && !double.IsFinite(v)) is double bad)
                    throw new TrainingDivergedException(epoch, step, bad, null, lr, lastCheckpoint, ResumeHint);
            }
            var savedFolder = output.Checkpoints.Save(model, optimizer, run with { Epoch = epoch, Step = step }).Folder;
            lastCheckpoint = savedFolder;
            // After the save, so the epoch's checkpoint does not wait on decoding; its time is reported on its own, not in pairs/s.
            if (options.CaptionMetrics)
            {
                clock.Stop();
                lastCaptionMetrics = ValidationCaptioner.Evaluate(model, validation!, loader, tokenizer, options.BatchSize, device, options.Cancellation);
                clock.Start();
            }
            var (ec, ep, et) = epochLosses.Mean();
            options.Progress?.Report(new CoCaFineTuneProgress(epoch, options.Epochs, step, totalSteps, true, ec, ep, et,
                schedule.At((int)Math.Min(int.MaxValue, Math.Max(0, step - 1))), examplesSeen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), lastValidation, savedFolder)
                { CaptionMetrics = lastCaptionMetrics });
        }

        CoCaCheckpointFolder.Save(model, output.FullPath);
        output.CopyVocabulary(options.VocabularyPath);
        return new CoCaFineTuneResult(output.FullPath, options.Epochs, step, examplesSeen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), lastValidation)
        {
            EpochsTrained = options.Epochs - firstEpoch + 1,
            LearningRate = plan.LearningRate,
            CaptionMetrics = lastCaptionMetrics,
        };
    }

    /// <summary>The total loss of <paramref name="batch"/> with the model's current weights, without gradients.</summary>
    private static double LossWith(CoCaModel model, CoCaObjective objective, PairBatchLoader loader, IReadOnlyList<ImageCaptionPair> batch, Device device, TrainingPrecision precision)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (pixels, ids) = loader.Load(batch, device);
        return LossValues.Read(StepLoss(model, objective, pixels, ids, precision)).Total;
    }

    /// <summary>
    /// One batch's loss at <paramref name="precision"/>, the caption cross-entropy made a few rows at a time with its
    /// gradients (<see cref="CoCaObjective.ComputeFromNormalizedHidden"/>): the vocabulary logits, the step's largest
    /// activation, never exist whole. Activation checkpointing is the model's own switch (<see cref="CoCaModel.CheckpointActivations"/>).
    /// </summary>
    internal static CoCaLoss StepLoss(CoCaModel model, CoCaObjective objective, Tensor pixels, Tensor ids, TrainingPrecision precision)
    {
        using var _ = MixedPrecision.Enter(precision);
        using var scope = NewDisposeScope();
        var (imageEmbedding, textEmbedding, hidden) = model.ForwardHidden(pixels, ids);
        var loss = objective.ComputeFromNormalizedHidden(imageEmbedding, textEmbedding, model.TextDecoder.FinalNorm(hidden), model.TextDecoder.VocabularyProjection,
            ids, model.LogitScale);
        var (c, p, t) = scope.MoveToOuter(loss.Contrastive, loss.Caption, loss.Total);
        return new CoCaLoss(c, p, t);
    }

    /// <summary>
    /// What resuming with another number of epochs does to the learning rate: the cosine is planned over the new length
    /// (as open_clip plans it from <c>--epochs</c> when it resumes), so the next step's rate is not the one the saved
    /// run would have used — after a finished run it rises again from near zero. Said, not refused: training on is what
    /// the user asked for.
    /// </summary>
    private static string Replanned(FineTuneRunState saved, int epochs, int stepsPerEpoch, FineTuneSchedulePlan plan)
    {
        var c = CultureInfo.InvariantCulture;
        int savedSteps = (int)Math.Min(int.MaxValue, (long)stepsPerEpoch * saved.Epochs);
        int next = (int)Math.Min(int.MaxValue, saved.Step);
        double before = new LearningRateSchedule(plan.LearningRate, savedSteps, Math.Min(plan.WarmupSteps, savedSteps)).At(Math.Min(next, savedSteps - 1));
        double now = new LearningRateSchedule(plan.LearningRate, plan.TotalSteps, plan.WarmupSteps).At(next);
        return string.Create(c,
            $"The schedule spans {epochs} epochs ({plan.TotalSteps} steps) now, {saved.Epochs} ({savedSteps} steps) in the saved run: the cosine is planned over the new length, so step {next + 1} trains at learning rate {now:G3}, where the saved run's schedule {(saved.Step >= savedSteps ? "ended at" : "would give")} {before:G3}.");
    }

    /// <summary>
    /// A resumed run whose checkpoint already holds every epoch asked for: nothing trains; the model of that epoch is
    /// (again) the output folder's, so a run killed between its last checkpoint and the final save is completed.
    /// </summary>
    private static CoCaFineTuneResult NothingLeftToTrain(CoCaFineTuneOptions options, FineTuneOutputFolder output, EpochCheckpoint resumed, FineTuneRunState saved, FineTuneSchedulePlan plan)
    {
        options.Log?.Report($"Nothing left to train: '{resumed.Folder}' is epoch {resumed.Epoch} and {options.Epochs} epoch(s) were asked for; ask for more epochs to train on.");
        resumed.CopyModelTo(output.FullPath);
        output.CopyVocabulary(options.VocabularyPath);
        return new CoCaFineTuneResult(output.FullPath, options.Epochs, saved.Step, 0, null) { EpochsTrained = 0, LearningRate = plan.LearningRate };
    }

    /// <summary>What the run reads from disk (emptying an output folder that holds any of it is refused).</summary>
    private static IEnumerable<string> InputsOf(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair> train, IReadOnlyList<ImageCaptionPair>? validation) =>
        new[] { options.Checkpoint, options.VocabularyPath }
            .Concat(train.Select(p => p.ImagePath))
            .Concat(validation?.Select(p => p.ImagePath) ?? []);

    /// <summary>
    /// The unweighted losses and image↔text recall@1/@5/@10 of the CoCa in <paramref name="checkpoint"/> (an open_clip
    /// checkpoint folder) on <paramref name="pairs"/>, what <c>coca evaluate-pairs</c> prints: rows naming the same image
    /// are one image with several captions; a video row is the mean of <paramref name="frames"/> uniformly sampled frame
    /// embeddings. A model giving a non-finite loss or embedding is refused (<see cref="InvalidDataException"/>).
    /// </summary>
    public static CoCaPairMetrics Evaluate(string checkpoint, string vocabularyPath, IReadOnlyList<ImageCaptionPair> pairs, int batchSize = 64, string device = "cpu",
        int frames = 16)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("There are no pairs to evaluate.", nameof(pairs));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        var torchDevice = TorchDevices.Parse(device);
        CoCaCheckpointFolder.RequireCheckpointFolder(checkpoint);
        var tokenizer = ClipTokenizer.FromFile(vocabularyPath);
        using var model = CoCaCheckpointFolder.Load(checkpoint);
        if (torchDevice.type != DeviceType.CPU) model.to(torchDevice);
        return CoCaPairEvaluator.Evaluate(model, pairs, new PairBatchLoader(model.Config, tokenizer), batchSize, torchDevice, model.Config.Text.PadId,
            frames, $"the CoCa in '{Path.GetFullPath(checkpoint)}'");
    }

    private static int[] Shuffled(int count, int seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        // Not HashCode.Combine: .NET randomizes it per process, so the order (and the weights) changed from run to run.
        new Random(unchecked(seed * 1_000_003 + epoch * 7_919 + 0x5eed)).Shuffle(order);
        return order;
    }

    private static List<ImageCaptionPair> Batch(IReadOnlyList<ImageCaptionPair> pairs, int[] order, int batchIndex, int batchSize)
    {
        int start = batchIndex * batchSize;
        int end = Math.Min(order.Length, start + batchSize);
        var batch = new List<ImageCaptionPair>(end - start);
        for (int i = start; i < end; i++) batch.Add(pairs[order[i]]);
        return batch;
    }
}

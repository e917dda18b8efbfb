using System.Diagnostics;
using System.Text.Json.Nodes;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Text;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.Devices;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using TorchSharp.Modules;
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
    internal const string CheckpointsFolder = FineTuneOutputFolder.CheckpointsFolder;
    internal const string OptimizerFile = "optimizer.safetensors";
    internal const string StateFile = FineTuneOutputFolder.StateFile;
    private static readonly double MaxLogitScale = Math.Log(100);

    /// <exception cref="TrainingDivergedException">A loss, gradient norm or the weights stopped being finite (learning rate too high).</exception>
    /// <exception cref="InvalidOperationException">The output folder holds an earlier run (and neither Resume nor Overwrite is set), or Resume finds nothing to continue or another run.</exception>
    /// <exception cref="PlatformNotSupportedException">libtorch cannot load here (the message says why).</exception>
    public static CoCaFineTuneResult Train(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair> train, IReadOnlyList<ImageCaptionPair>? validation = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("There are no training pairs.", nameof(train));
        ValidationCaptioner.RequireUsable(options, validation);
        var device = TorchDevices.Parse(options.Device);
        var tokenizer = ClipTokenizer.FromFile(options.VocabularyPath);
        if (options.Resume && !Directory.Exists(options.OutputDirectory)) throw NothingToResume(Path.GetFullPath(options.OutputDirectory));
        using var output = FineTuneOutputFolder.Open(options.OutputDirectory, options.Log);

        (string Folder, int Epoch)? resumeFrom = null;
        FineTuneRunState? saved = null;
        if (options.Resume)
        {
            resumeFrom = output.LatestCheckpoint() ?? throw NothingToResume(output.FullPath);
            saved = FineTuneRunState.Read(Path.Combine(resumeFrom.Value.Folder, StateFile));
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
            : CoCaCheckpointFolder.Load(resumeFrom.Value.Folder);
        if (device.type != DeviceType.CPU) model.to(device);
        model.train();
        model.CheckpointActivations = options.CheckpointActivations;
        var precision = BFloat16Support.Resolve(options.Precision, device, options.Log is { } log ? log.Report : null, options.BFloat16Probe);
        var loader = new PairBatchLoader(model.Config, tokenizer);
        if (options.CaptionMetrics) options.Log?.Report(ValidationCaptioner.Describe(model.Config, validation!));

        var trainable = Freeze(model, options);
        using var optimizer = new AdamWOptimizer(ParameterGroups(trainable, options.WeightDecay), options.Beta1, options.Beta2, options.Epsilon);
        int firstEpoch = 1;
        long step = 0;
        string? lastCheckpoint = null;
        if (resumeFrom is { } resume)
        {
            optimizer.ImportState(SafetensorsReader.Read(Path.Combine(resume.Folder, OptimizerFile)));
            firstEpoch = resume.Epoch + 1;
            step = optimizer.StepCount;
            lastCheckpoint = resume.Folder;
        }

        var schedule = new LearningRateSchedule(plan.LearningRate, scheduledSteps, plan.WarmupSteps);
        using var objective = new CoCaObjective(options.ContrastiveWeight, options.CaptionWeight, model.Config.Text.PadId);
        using var accumulationScale = (1.0 / options.GradientAccumulationSteps).ToScalar();
        using var zero = 0.0.ToScalar();
        using var maxLogitScale = MaxLogitScale.ToScalar();
        var trainableParameters = trainable.Select(t => t.Parameter).ToList();
        var trainableTensors = trainableParameters.Cast<Tensor>().ToList();
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
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                lr = schedule.At((int)Math.Min(int.MaxValue, step));
                for (int a = 0; a < options.GradientAccumulationSteps; a++)
                {
                    int batchIndex = s * options.GradientAccumulationSteps + a;
                    var batch = Batch(train, order, batchIndex, options.BatchSize);
                    using var scope = NewDisposeScope();
                    var (pixels, ids) = loader.Load(batch, device);
                    var loss = StepLoss(model, objective, pixels, ids, precision, options.CheckpointActivations);
                    // The losses are read for the progress reports anyway (one transfer): a step that is not finite
                    // stops here, before its gradients reach the weights.
                    var values = LossValues.Read(loss);
                    lastLoss = values.Total;
                    if (!double.IsFinite(values.Total))
                        throw new TrainingDivergedException(epoch, step + 1, values.Total, null, lr, lastCheckpoint, ResumeHint);
                    loss.Total.mul(accumulationScale).backward();
                    ActivationCheckpoint.ReleaseHandedOverGradients();
                    window.Add(values);
                    epochLosses.Add(values);
                    windowExamples += batch.Count;
                    examplesSeen += batch.Count;
                }
                // The global gradient norm: clipping computes it anyway; without clipping, one fused norm.
                double gradientNorm = options.GradientClipNorm is { } clip
                    ? nn.utils.clip_grad_norm_(trainableParameters, clip)
                    : DivergenceGuard.ReadGradientNorm(trainableTensors, device);
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
            if (validation is { Count: > 0 })
            {
                lastValidation = CoCaPairEvaluator.Evaluate(model, validation, loader, options.BatchSize, device, model.Config.Text.PadId);
                // The evaluator refuses non-finite losses itself; this is the fine-tuner's own word for the same case.
                if (new[] { lastValidation.ContrastiveLoss, lastValidation.CaptionLoss }.FirstOrDefault(l => l is double v && !double.IsFinite(v)) is double bad)
                    throw new TrainingDivergedException(epoch, step, bad, null, lr, lastCheckpoint, ResumeHint);
            }
            var savedFolder = output.SaveCheckpoint(epoch, folder => WriteCheckpoint(model, optimizer, folder, run with { Epoch = epoch, Step = step }));
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
        CopyVocabulary(options.VocabularyPath, output.FullPath);
        return new CoCaFineTuneResult(output.FullPath, options.Epochs, step, examplesSeen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), lastValidation)
        {
            EpochsTrained = options.Epochs - firstEpoch + 1,
            LearningRate = plan.LearningRate,
            CaptionMetrics = lastCaptionMetrics,
        };
    }

    /// <summary>
    /// One batch's loss at <paramref name="precision"/>. With activation checkpointing the vocabulary logits are made a few
    /// rows at a time inside checkpoints too (<see cref="CoCaObjective.ComputeChunked"/>): the largest activation of
    /// the step, and with it most of what checkpointing the blocks alone leaves in memory.
    /// </summary>
    internal static CoCaLoss StepLoss(CoCaModel model, CoCaObjective objective, Tensor pixels, Tensor ids, TrainingPrecision precision, bool checkpointActivations)
    {
        using var _ = MixedPrecision.Enter(precision);
        if (!checkpointActivations)
        {
            var f = model.forward(pixels, ids);
            return objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
        }
        var (imageEmbedding, textEmbedding, hidden) = model.ForwardHidden(pixels, ids);
        return objective.ComputeChunked(imageEmbedding, textEmbedding, hidden, model.TextDecoder.Project, model.TextDecoder.ProjectionParameters(),
            model.Config.Multimodal.VocabSize, ids, model.LogitScale);
    }

    /// <summary>
    /// A resumed run whose checkpoint already holds every epoch asked for: nothing trains; the model of that epoch is
    /// (again) the output folder's, so a run killed between its last checkpoint and the final save is completed.
    /// </summary>
    private static CoCaFineTuneResult NothingLeftToTrain(CoCaFineTuneOptions options, FineTuneOutputFolder output, (string Folder, int Epoch) resumed, FineTuneRunState saved, FineTuneSchedulePlan plan)
    {
        options.Log?.Report($"Nothing left to train: '{resumed.Folder}' is epoch {resumed.Epoch} and {options.Epochs} epoch(s) were asked for; ask for more epochs to train on.");
        foreach (var file in new[] { CheckpointLoader.HubConfigFile, CheckpointLoader.HubSafetensorsFile })
        {
            var temp = Path.Combine(output.FullPath, $".{file}.{Guid.NewGuid():N}.tmp");
            File.Copy(Path.Combine(resumed.Folder, file), temp);
            File.Move(temp, Path.Combine(output.FullPath, file), overwrite: true);
        }
        CopyVocabulary(options.VocabularyPath, output.FullPath);
        return new CoCaFineTuneResult(output.FullPath, options.Epochs, saved.Step, 0, null) { EpochsTrained = 0, LearningRate = plan.LearningRate };
    }

    private static InvalidOperationException NothingToResume(string folder) => new(
        $"Nothing to resume in '{folder}': it holds no complete epoch checkpoint ({CheckpointsFolder}/epoch_N). Train without Resume (--resume) to start a run there.");

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

    /// <summary>Marks the frozen towers' parameters as not requiring gradients; returns the trainable ones by name.</summary>
    private static List<(string Name, Parameter Parameter)> Freeze(CoCaModel model, CoCaFineTuneOptions options)
    {
        var trainable = new List<(string, Parameter)>();
        foreach (var (name, p) in model.named_parameters())
        {
            bool frozen = (options.FreezeVision && name.StartsWith("visual.", StringComparison.Ordinal))
                || (options.FreezeText && name.StartsWith("text.", StringComparison.Ordinal))
                || (options.FreezeDecoder && name.StartsWith("text_decoder.", StringComparison.Ordinal));
            p.requires_grad = !frozen;
            if (!frozen) trainable.Add((name, p));
        }
        return trainable;
    }

    /// <summary>
    /// open_clip's two AdamW groups (training/main.py): no weight decay for parameters with fewer than 2 dimensions
    /// (LayerNorm gains and biases, biases, class_embedding, cls_emb, logit_scale) or named bias/ln/bn/logit_scale;
    /// weight decay for the rest (weight matrices, token and positional embeddings, pooler queries, projections).
    /// </summary>
    internal static IEnumerable<AdamWParameterGroup> ParameterGroups(IReadOnlyList<(string Name, Parameter Parameter)> trainable, double weightDecay)
    {
        static bool Excluded(string n, Parameter p) =>
            p.dim() < 2 || n.Contains("bn", StringComparison.Ordinal) || n.Contains("ln", StringComparison.Ordinal)
            || n.Contains("bias", StringComparison.Ordinal) || n.Contains("logit_scale", StringComparison.Ordinal);
        var noDecay = trainable.Where(t => Excluded(t.Name, t.Parameter)).ToList();
        var decay = trainable.Where(t => !Excluded(t.Name, t.Parameter)).ToList();
        if (noDecay.Count > 0) yield return new AdamWParameterGroup(noDecay, 0.0);
        if (decay.Count > 0) yield return new AdamWParameterGroup(decay, weightDecay);
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

    /// <summary>The model (hub layout), the optimizer's moments and the run's state into <paramref name="folder"/>.</summary>
    private static void WriteCheckpoint(CoCaModel model, AdamWOptimizer optimizer, string folder, FineTuneRunState state)
    {
        CoCaCheckpointFolder.Save(model, folder);
        SafetensorsWriter.Write(Path.Combine(folder, OptimizerFile), optimizer.ExportState());
        File.WriteAllText(Path.Combine(folder, StateFile), state.ToJson());
    }

    private static void CopyVocabulary(string vocabularyPath, string output)
    {
        var source = Path.GetFullPath(vocabularyPath);
        var target = Path.Combine(output, Path.GetFileName(source));
        if (!string.Equals(source, target, StringComparison.Ordinal)) File.Copy(source, target, overwrite: true);
        var merges = Path.Combine(Path.GetDirectoryName(source)!, "merges.txt");
        if (Path.GetFileName(source).EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(merges))
            File.Copy(merges, Path.Combine(output, "merges.txt"), overwrite: true);
    }

    /// <summary>The three losses of one batch as numbers.</summary>
    private readonly record struct LossValues(double Contrastive, double Caption, double Total)
    {
        /// <summary>Reads the three in one transfer from the device.</summary>
        public static LossValues Read(CoCaLoss loss)
        {
            using var scope = NewDisposeScope();
            var v = torch.stack([loss.Contrastive.detach(), loss.Caption.detach(), loss.Total.detach()]).cpu().data<float>().ToArray();
            return new LossValues(v[0], v[1], v[2]);
        }
    }

    /// <summary>Running means of the three losses.</summary>
    private sealed class LossWindow
    {
        private double _c, _p, _t;
        private int _n;

        public void Add(LossValues loss)
        {
            _c += loss.Contrastive;
            _p += loss.Caption;
            _t += loss.Total;
            _n++;
        }

        public (double Contrastive, double Caption, double Total) Mean() =>
            _n == 0 ? (double.NaN, double.NaN, double.NaN) : (_c / _n, _p / _n, _t / _n);
    }
}

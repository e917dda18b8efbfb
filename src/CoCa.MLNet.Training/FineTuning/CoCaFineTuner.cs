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
public sealed record CoCaFineTuneResult(string OutputDirectory, int Epochs, long Steps, double ExamplesPerSecond, CoCaPairMetrics? Validation);

/// <summary>
/// Trains a whole open_clip CoCa on image–caption pairs with CoCa's objective: AdamW with open_clip's parameter groups,
/// linear warmup + cosine decay, gradient clipping and accumulation, optional frozen towers, <c>logit_scale</c> clamped to
/// [0, ln 100] after every step (open_clip's training loop). Images are decoded batch by batch, so memory is bounded
/// by the batch. After every epoch it writes a checkpoint (<c>checkpoints/epoch_N</c>: the model in open_clip's hub
/// layout, the optimizer's moments, the step) from which <see cref="CoCaFineTuneOptions.Resume"/> continues; at the end
/// the model goes to the output folder itself in the hub layout (with the vocabulary), ready for <c>coca convert</c>
/// and open_clip's <c>create_model</c>.
/// </summary>
public static class CoCaFineTuner
{
    internal const string CheckpointsFolder = "checkpoints";
    internal const string OptimizerFile = "optimizer.safetensors";
    internal const string StateFile = "trainer_state.json";
    private static readonly double MaxLogitScale = Math.Log(100);

    public static CoCaFineTuneResult Train(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair> train, IReadOnlyList<ImageCaptionPair>? validation = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("There are no training pairs.", nameof(train));
        var device = TorchDevices.Parse(options.Device);
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        var tokenizer = ClipTokenizer.FromFile(options.VocabularyPath);

        torch.manual_seed(options.Seed);
        var resumeFrom = options.Resume ? LatestCheckpoint(output) : null;
        using var model = resumeFrom is null
            ? CoCaCheckpointFolder.Load(options.Checkpoint, options.Seed)
            : CoCaCheckpointFolder.Load(resumeFrom.Value.Folder);
        if (device.type != DeviceType.CPU) model.to(device);
        model.train();
        model.CheckpointActivations = options.CheckpointActivations;
        var precision = BFloat16Support.Resolve(options.Precision, device, options.Log, options.BFloat16Probe);
        var loader = new PairBatchLoader(model.Config, tokenizer);

        var trainable = Freeze(model, options);
        using var optimizer = new AdamWOptimizer(ParameterGroups(trainable, options.WeightDecay), options.Beta1, options.Beta2, options.Epsilon);
        int firstEpoch = 1;
        long step = 0;
        if (resumeFrom is { } resume)
        {
            RequireSameRun(resume.Folder, options, train.Count);
            optimizer.ImportState(SafetensorsReader.Read(Path.Combine(resume.Folder, OptimizerFile)));
            firstEpoch = resume.Epoch + 1;
            step = optimizer.StepCount;
        }

        int batchesPerEpoch = Math.Max(1, train.Count / options.BatchSize); // open_clip drops the last partial batch
        int stepsPerEpoch = Math.Max(1, batchesPerEpoch / options.GradientAccumulationSteps);
        long totalSteps = (long)stepsPerEpoch * options.Epochs;
        int scheduledSteps = (int)Math.Min(int.MaxValue, totalSteps);
        var schedule = new LearningRateSchedule(options.LearningRate, scheduledSteps, (int)Math.Round(options.WarmupFraction * scheduledSteps));
        using var objective = new CoCaObjective(options.ContrastiveWeight, options.CaptionWeight, model.Config.Text.PadId);
        using var accumulationScale = (1.0 / options.GradientAccumulationSteps).ToScalar();
        using var zero = 0.0.ToScalar();
        using var maxLogitScale = MaxLogitScale.ToScalar();
        var trainableParameters = trainable.Select(t => t.Parameter).ToList();

        var clock = Stopwatch.StartNew();
        long examplesSeen = 0;
        CoCaPairMetrics? lastValidation = null;
        for (int epoch = firstEpoch; epoch <= options.Epochs; epoch++)
        {
            var order = Shuffled(train.Count, options.Seed, epoch);
            var window = new LossWindow();
            var epochLosses = new LossWindow();
            var windowClock = Stopwatch.StartNew();
            long windowExamples = 0;
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                double lr = schedule.At((int)Math.Min(int.MaxValue, step));
                for (int a = 0; a < options.GradientAccumulationSteps; a++)
                {
                    int batchIndex = s * options.GradientAccumulationSteps + a;
                    var batch = Batch(train, order, batchIndex, options.BatchSize);
                    using var scope = NewDisposeScope();
                    var (pixels, ids) = loader.Load(batch, device);
                    CoCaForward f;
                    using (MixedPrecision.Enter(precision)) f = model.forward(pixels, ids);
                    var loss = objective.Compute(f.ImageEmbedding, f.TextEmbedding, f.Logits, ids, f.LogitScale);
                    loss.Total.mul(accumulationScale).backward();
                    ActivationCheckpoint.ReleaseHandedOverGradients();
                    window.Add(loss);
                    epochLosses.Add(loss);
                    windowExamples += batch.Count;
                    examplesSeen += batch.Count;
                }
                if (options.GradientClipNorm is { } clip)
                    nn.utils.clip_grad_norm_(trainableParameters, clip);
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

            if (validation is { Count: > 0 })
                lastValidation = CoCaPairEvaluator.Evaluate(model, validation, loader, options.BatchSize, device, model.Config.Text.PadId);
            var saved = SaveEpoch(model, optimizer, output, epoch, step, options, train.Count);
            var (ec, ep, et) = epochLosses.Mean();
            options.Progress?.Report(new CoCaFineTuneProgress(epoch, options.Epochs, step, totalSteps, true, ec, ep, et,
                schedule.At((int)Math.Min(int.MaxValue, Math.Max(0, step - 1))), examplesSeen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), lastValidation, saved));
        }

        CoCaCheckpointFolder.Save(model, output);
        CopyVocabulary(options.VocabularyPath, output);
        return new CoCaFineTuneResult(output, options.Epochs, step, examplesSeen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), lastValidation);
    }

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

    private static string SaveEpoch(CoCaModel model, AdamWOptimizer optimizer, string output, int epoch, long step, CoCaFineTuneOptions options, int pairs)
    {
        var root = Path.Combine(output, CheckpointsFolder);
        var folder = Path.Combine(root, $"epoch_{epoch}");
        var temp = Path.Combine(root, $".epoch_{epoch}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        CoCaCheckpointFolder.Save(model, temp);
        SafetensorsWriter.Write(Path.Combine(temp, OptimizerFile), optimizer.ExportState());
        var state = new JsonObject
        {
            ["epoch"] = epoch,
            ["step"] = step,
            ["epochs"] = options.Epochs,
            ["batch_size"] = options.BatchSize,
            ["gradient_accumulation_steps"] = options.GradientAccumulationSteps,
            ["learning_rate"] = options.LearningRate,
            ["seed"] = options.Seed,
            ["pairs"] = pairs,
        };
        File.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString());
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(temp, folder); // the state file appears with a complete checkpoint or not at all
        return folder;
    }

    /// <summary>
    /// Resuming continues the same shuffling and steps: data size, batch settings and seed must not change (more epochs
    /// may be asked for; the cosine schedule then stretches over the new total from the resumed step on).
    /// </summary>
    private static void RequireSameRun(string folder, CoCaFineTuneOptions options, int pairs)
    {
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, StateFile)))!;
        var saved = (Pairs: (int)state["pairs"]!, Batch: (int)state["batch_size"]!, Accumulation: (int)state["gradient_accumulation_steps"]!, Seed: (int)state["seed"]!);
        var now = (Pairs: pairs, Batch: options.BatchSize, Accumulation: options.GradientAccumulationSteps, Seed: options.Seed);
        if (saved != now)
            throw new InvalidOperationException(
                $"Cannot resume from '{folder}': it was trained with {saved.Pairs} pairs, batch size {saved.Batch}, accumulation {saved.Accumulation}, " +
                $"seed {saved.Seed}; this run has {now.Pairs}, {now.Batch}, {now.Accumulation}, {now.Seed}. " +
                "Use the same data and settings, or a new output folder.");
    }

    /// <summary>The highest-numbered complete epoch checkpoint in <paramref name="output"/>, or null.</summary>
    internal static (string Folder, int Epoch)? LatestCheckpoint(string output)
    {
        var root = Path.Combine(output, CheckpointsFolder);
        if (!Directory.Exists(root)) return null;
        (string, int)? best = null;
        foreach (var dir in Directory.EnumerateDirectories(root, "epoch_*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)["epoch_".Length..], out int epoch)) continue;
            if (!File.Exists(Path.Combine(dir, StateFile))) continue;
            if (best is null || epoch > best.Value.Item2) best = (dir, epoch);
        }
        return best;
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

    /// <summary>Running means of the three losses.</summary>
    private sealed class LossWindow
    {
        private double _c, _p, _t;
        private int _n;

        public void Add(CoCaLoss loss)
        {
            _c += loss.Contrastive.item<float>();
            _p += loss.Caption.item<float>();
            _t += loss.Total.item<float>();
            _n++;
        }

        public (double Contrastive, double Caption, double Total) Mean() =>
            _n == 0 ? (double.NaN, double.NaN, double.NaN) : (_c / _n, _p / _n, _t / _n);
    }
}

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// Settings of <see cref="CoCaFineTuner"/>: training (or adapting) a whole open_clip CoCa on image–caption pairs with
/// CoCa's objective (λ_con·contrastive + λ_cap·caption). Defaults follow open_clip's training script where it has one
/// (AdamW β₂ 0.98, ε 1e-6, weight decay 0.2, caption weight 2). The learning rate and warmup depend on the start: from a
/// config alone, open_clip's training defaults (<see cref="FromScratchLearningRate"/>, its warmup); from weights, a
/// fine-tuning recipe (<see cref="FineTuningLearningRate"/>); <see cref="Log"/> says which.
/// </summary>
public sealed class CoCaFineTuneOptions
{
    /// <summary>The peak learning rate when training from scratch: open_clip's training default (<c>--lr</c> for ViTs).</summary>
    public const double FromScratchLearningRate = 5e-4;

    /// <summary>Warmup steps when training from scratch: open_clip's <c>--warmup</c> default, at most a tenth of the run.</summary>
    public const int FromScratchWarmupSteps = 10_000;

    /// <summary>The peak learning rate when starting from weights (fine-tuning).</summary>
    public const double FineTuningLearningRate = 1e-5;

    /// <summary>The share of the steps spent warming up when starting from weights.</summary>
    public const double FineTuningWarmupFraction = 0.05;

    /// <summary>Checkpoint folder in open_clip's hub layout; a folder with only <c>open_clip_config.json</c> trains from scratch.</summary>
    public required string Checkpoint { get; init; }

    /// <summary>open_clip's <c>bpe_simple_vocab_16e6.txt.gz</c> (or a CLIP <c>vocab.json</c> with <c>merges.txt</c> beside it).</summary>
    public required string VocabularyPath { get; init; }

    /// <summary>Where the trained model (hub layout), the per-epoch checkpoints (<c>checkpoints/epoch_N</c>) and the vocabulary go.</summary>
    public required string OutputDirectory { get; init; }

    public int Epochs { get; init; } = 1;

    /// <summary>Pairs per forward pass (the contrastive loss's negatives are the other pairs of the batch).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Batches whose gradients are summed before each optimizer step (effective batch = BatchSize × this). Each batch's
    /// contrastive loss still sees only its own pairs as negatives (open_clip's <c>--accum-freq</c> re-computes features
    /// to use the whole effective batch; this does not).
    /// </summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>
    /// Peak learning rate (linear warmup, then cosine decay to 0). Null: <see cref="FromScratchLearningRate"/> when
    /// <see cref="Checkpoint"/> holds only a config, <see cref="FineTuningLearningRate"/> when it holds weights; a resumed
    /// run keeps the saved run's.
    /// </summary>
    public double? LearningRate { get; init; }

    /// <summary>
    /// Share of all optimizer steps spent warming up linearly. Null: from scratch, open_clip's
    /// <see cref="FromScratchWarmupSteps"/> steps but at most a tenth of the run; from weights,
    /// <see cref="FineTuningWarmupFraction"/>; a resumed run keeps the saved run's warmup.
    /// </summary>
    public double? WarmupFraction { get; init; }

    /// <summary>AdamW decoupled weight decay for weight matrices (open_clip: not for gains, biases, 1-D embeddings, logit_scale).</summary>
    public double WeightDecay { get; init; } = 0.2;

    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Clip the global gradient norm to this value before each step (null: no clipping).</summary>
    public double? GradientClipNorm { get; init; } = 1.0;

    /// <summary>λ_con (open_clip's <c>--coca-contrastive-loss-weight</c>, default 1).</summary>
    public double ContrastiveWeight { get; init; } = CoCaObjective.DefaultContrastiveWeight;

    /// <summary>λ_cap (open_clip's <c>--coca-caption-loss-weight</c>, default 2).</summary>
    public double CaptionWeight { get; init; } = CoCaObjective.DefaultCaptionWeight;

    /// <summary>Lock the whole image tower (LiT-style: open_clip's <c>--lock-image</c>).</summary>
    public bool FreezeVision { get; init; }

    /// <summary>Lock the unimodal text tower (open_clip's <c>--lock-text</c>).</summary>
    public bool FreezeText { get; init; }

    /// <summary>Lock the multimodal (captioning) decoder.</summary>
    public bool FreezeDecoder { get; init; }

    /// <summary>Seed of the initialisation (from scratch) and the shuffling: same seed, data and settings give the same weights on CPU.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Continue from the last epoch checkpoint in <see cref="OutputDirectory"/> (weights, optimizer moments, step). The
    /// saved run must be this one: same data (by content), vocabulary, batch size, accumulation, seed and frozen towers;
    /// the epochs may grow and the learning rate may change. Without a checkpoint to continue from, training is refused.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Empty <see cref="OutputDirectory"/> first when it holds anything (an earlier run). Without it, and without
    /// <see cref="Resume"/>, a folder that holds files is refused, so that two runs never mix.
    /// </summary>
    public bool Overwrite { get; init; }

    /// <summary>"cpu", "cuda" or "cuda:N" (<see cref="CoCa.MLNet.Runtime.ComputeDevice"/>, as everywhere in CoCa.MLNet).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// After every epoch, greedy-caption the validation images with the model (TorchSharp, open_clip's greedy
    /// <c>generate()</c>, at most 30 tokens and never more than the text context) and report their CIDEr and BLEU-4
    /// against the validation captions (<see cref="CoCaFineTuneProgress.CaptionMetrics"/>). Needs validation pairs of
    /// images. It costs a decoding per validation image per epoch, each token recomputing the caption so far.
    /// </summary>
    public bool CaptionMetrics { get; init; }

    /// <summary>Report training losses every this many optimizer steps (and at every epoch's end).</summary>
    public int ProgressEverySteps { get; init; } = 10;

    /// <summary>
    /// Receives step and epoch reports (losses, learning rate, throughput, validation metrics), synchronously on the
    /// training thread, in order; <see cref="InlineProgress{T}"/> acts on each as it comes.
    /// </summary>
    public IProgress<CoCaFineTuneProgress>? Progress { get; init; }

    /// <summary>
    /// Receives, before the first step, a line each about what the run does: from scratch or from weights and the
    /// learning rate and warmup that follow (given or which defaults), the checkpoint a resumed run continues from, the
    /// leftovers of interrupted saves it removed. <c>new InlineProgress&lt;string&gt;(Console.WriteLine)</c> prints them.
    /// </summary>
    public IProgress<string>? Log { get; init; }

    /// <summary>
    /// <see cref="TrainingPrecision.BFloat16"/>: the towers' matrix products and activations in bfloat16 on float32
    /// weights (autocast's mixed precision; losses, LayerNorm and softmax stay float32, and the saved model is float32).
    /// On a device without bfloat16 support, one line to <see cref="Log"/> and float32. Validation runs in float32.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Keep only each transformer block's inputs during the forward pass and recompute the block in the backward pass
    /// (vision tower, text tower and multimodal decoder): much less activation memory for one more forward pass per step;
    /// the gradients are the same.
    /// </summary>
    public bool CheckpointActivations { get; init; }

    /// <summary>Tests: answers whether a device supports bfloat16 instead of the CPU flags / device probe.</summary>
    internal Func<TorchSharp.torch.Device, bool>? BFloat16Probe { get; init; }

    /// <summary>Stops training at the next step (an <see cref="OperationCanceledException"/>); the last epoch checkpoint stays for <see cref="Resume"/>.</summary>
    public CancellationToken Cancellation { get; init; }

    internal void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        if (GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "Gradient accumulation steps must be at least 1.");
        if (LearningRate is { } lr && (!(lr > 0) || !double.IsFinite(lr))) throw new ArgumentOutOfRangeException(nameof(LearningRate), lr, "The learning rate must be a positive number.");
        if (WarmupFraction is { } w && (w is < 0 or > 1 || double.IsNaN(w))) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), w, "The warmup fraction must be in [0, 1].");
        if (Resume && Overwrite) throw new ArgumentException("Resume continues the run in OutputDirectory and Overwrite empties it: give one of them.");
        if (GradientClipNorm is { } c && !(c > 0)) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), c, "The gradient clip norm must be positive (or null for none).");
        if (ProgressEverySteps < 1) throw new ArgumentOutOfRangeException(nameof(ProgressEverySteps), ProgressEverySteps, "ProgressEverySteps must be at least 1.");
        if (!Enum.IsDefined(Precision)) throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Precision must be Float32 or BFloat16.");
        if (FreezeVision && FreezeText && FreezeDecoder)
            throw new ArgumentException("Every tower is frozen (FreezeVision, FreezeText, FreezeDecoder): nothing but logit_scale would train.");
    }
}

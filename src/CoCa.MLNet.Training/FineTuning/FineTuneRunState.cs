using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// What identifies a fine-tuning run, saved with every epoch checkpoint (<c>trainer_state.json</c>) so that a resumed
/// run can prove it continues the same one: the data (a SHA-256 over every pair's caption and image bytes, in order), the
/// vocabulary's bytes, the batch plan, the seed and the frozen towers must all match, since they shape the shuffling,
/// the optimizer's state or what the tokens mean. The learning rate and warmup are recorded too: a resumed run keeps
/// them unless told otherwise (lowering the learning rate after a divergence is legitimate).
/// </summary>
internal sealed record FineTuneRunState
{
    public required int Pairs { get; init; }
    public required string? DataSha256 { get; init; }
    public required string? VocabularySha256 { get; init; }
    public required int BatchSize { get; init; }
    public required int GradientAccumulationSteps { get; init; }
    public required int Seed { get; init; }
    public required bool? FreezeVision { get; init; }
    public required bool? FreezeText { get; init; }
    public required bool? FreezeDecoder { get; init; }

    /// <summary>True: trained from a config alone (open_clip's from-scratch defaults); null in states older than this field.</summary>
    public required bool? FromScratch { get; init; }

    public required double LearningRate { get; init; }
    public required int? WarmupSteps { get; init; }
    public required int Epochs { get; init; }

    /// <summary>The epoch and optimizer step the checkpoint was saved after (0 before any).</summary>
    public int Epoch { get; init; }

    public long Step { get; init; }

    /// <summary>This run's identity: <paramref name="train"/>'s fingerprint (reads every image once) and the options'.</summary>
    public static FineTuneRunState Of(CoCaFineTuneOptions options, IReadOnlyList<ImageCaptionPair> train, bool fromScratch, double learningRate, int warmupSteps) => new()
    {
        Pairs = train.Count,
        DataSha256 = DataFingerprint(train),
        VocabularySha256 = VocabularyFingerprint(options.VocabularyPath),
        BatchSize = options.BatchSize,
        GradientAccumulationSteps = options.GradientAccumulationSteps,
        Seed = options.Seed,
        FreezeVision = options.FreezeVision,
        FreezeText = options.FreezeText,
        FreezeDecoder = options.FreezeDecoder,
        FromScratch = fromScratch,
        LearningRate = learningRate,
        WarmupSteps = warmupSteps,
        Epochs = options.Epochs,
    };

    public string ToJson() => new JsonObject
    {
        ["epoch"] = Epoch,
        ["step"] = Step,
        ["epochs"] = Epochs,
        ["batch_size"] = BatchSize,
        ["gradient_accumulation_steps"] = GradientAccumulationSteps,
        ["learning_rate"] = LearningRate,
        ["warmup_steps"] = WarmupSteps,
        ["seed"] = Seed,
        ["pairs"] = Pairs,
        ["data_sha256"] = DataSha256,
        ["vocabulary_sha256"] = VocabularySha256,
        ["freeze_vision"] = FreezeVision,
        ["freeze_text"] = FreezeText,
        ["freeze_decoder"] = FreezeDecoder,
        ["from_scratch"] = FromScratch,
    }.ToJsonString();

    /// <summary>Reads a state file; fields added after a checkpoint was written read as null (not checked).</summary>
    public static FineTuneRunState Read(string path)
    {
        JsonNode state;
        try
        {
            state = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"Checkpoint state '{path}' is not valid JSON ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}); the checkpoint is damaged.", e);
        }
        try
        {
            return new FineTuneRunState
            {
                Epoch = (int)state["epoch"]!,
                Step = (long)state["step"]!,
                Epochs = (int)state["epochs"]!,
                Pairs = (int)state["pairs"]!,
                BatchSize = (int)state["batch_size"]!,
                GradientAccumulationSteps = (int)state["gradient_accumulation_steps"]!,
                Seed = (int)state["seed"]!,
                LearningRate = (double)state["learning_rate"]!,
                WarmupSteps = (int?)state["warmup_steps"],
                DataSha256 = (string?)state["data_sha256"],
                VocabularySha256 = (string?)state["vocabulary_sha256"],
                FreezeVision = (bool?)state["freeze_vision"],
                FreezeText = (bool?)state["freeze_text"],
                FreezeDecoder = (bool?)state["freeze_decoder"],
                FromScratch = (bool?)state["from_scratch"],
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Checkpoint state '{path}' lacks a field or has one of the wrong type ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}); the checkpoint is damaged.", e);
        }
    }

    /// <summary>
    /// Throws when <paramref name="now"/> is not a continuation of this saved run, naming every difference. The epochs
    /// may grow (the cosine schedule then stretches from the resumed step); the learning rate and warmup may change.
    /// </summary>
    public void RequireContinuedBy(FineTuneRunState now, string folder)
    {
        var differences = new List<string>();
        if (Pairs != now.Pairs || (DataSha256 is not null && DataSha256 != now.DataSha256))
            differences.Add(Pairs != now.Pairs ? $"{Pairs} pairs (now {now.Pairs})" : $"the pairs' captions or images (same count, {Pairs} pairs, other contents)");
        if (VocabularySha256 is not null && VocabularySha256 != now.VocabularySha256) differences.Add("the vocabulary file's contents");
        if (BatchSize != now.BatchSize) differences.Add($"batch size {BatchSize} (now {now.BatchSize})");
        if (GradientAccumulationSteps != now.GradientAccumulationSteps) differences.Add($"accumulation {GradientAccumulationSteps} (now {now.GradientAccumulationSteps})");
        if (Seed != now.Seed) differences.Add($"seed {Seed} (now {now.Seed})");
        foreach (var (name, saved, given) in new[] { ("frozen vision tower", FreezeVision, now.FreezeVision), ("frozen text tower", FreezeText, now.FreezeText), ("frozen decoder", FreezeDecoder, now.FreezeDecoder) })
            if (saved is not null && saved != given) differences.Add($"{name} {(saved.Value ? "yes" : "no")} (now {(given == true ? "yes" : "no")})");
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"Cannot resume from '{folder}': it was trained with {string.Join(", ", differences)}. " +
                "Use the same data and settings, or start over in a new output folder (or with Overwrite, --overwrite).");
    }

    /// <summary>SHA-256 over the pairs in order: each caption and its image file's bytes (moving the data is no change).</summary>
    internal static string DataFingerprint(IReadOnlyList<ImageCaptionPair> pairs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        foreach (var pair in pairs)
        {
            var caption = Encoding.UTF8.GetBytes(pair.Caption);
            hash.AppendData(BitConverter.GetBytes(caption.Length));
            hash.AppendData(caption);
            using var image = new FileStream(pair.ImagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            hash.AppendData(BitConverter.GetBytes(image.Length));
            int n;
            while ((n = image.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string VocabularyFingerprint(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

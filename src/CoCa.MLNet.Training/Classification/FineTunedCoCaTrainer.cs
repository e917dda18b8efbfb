using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training.Devices;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Classification;

/// <summary>
/// Fine-tunes a CoCa image encoder together with a new attentional pooler and linear classifier (the paper's
/// "CoCa (finetuned)" rows), for images and for video (frames through the shared encoder, pooled together with frame
/// embeddings). Fit returns the same two stages a frozen pipeline has — the featurizer, now with the fine-tuned encoder
/// written as a new vision ONNX model, and the ONNX-scored <see cref="AttentionalPoolerTransformer"/> — so the model
/// scores with ONNX Runtime alone, saves with <c>SaveCoCa</c>, and serves like any CoCa.MLNet classifier.
/// </summary>
/// <example><code>
/// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
///     .Append(ml.MulticlassClassification.Trainers.FineTunedCoCa(new FineTunedCoCaOptions { Checkpoint = "models/coca_ViT-B-32" }))   // reads "Image"
///     .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
/// </code></example>
public sealed class FineTunedCoCaTrainer : IEstimator<TransformerChain<ITransformer>>
{
    private readonly IHostEnvironment _env;

    internal FineTunedCoCaTrainer(IHostEnvironment env, FineTunedCoCaOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        Options = options;
    }

    public FineTunedCoCaOptions Options { get; }

    private bool IsVideo => Options.FrameCount is not null;

    private string InputColumn => Options.InputColumnName ?? (IsVideo ? CoCaColumnNames.Video : CoCaColumnNames.Image);

    /// <summary>Fine-tunes on <paramref name="input"/>; returns the featurizer (fine-tuned encoder) and the pooler, both scored by ONNX Runtime.</summary>
    public TransformerChain<ITransformer> Fit(IDataView input)
    {
        var result = Train(input);
        return CreateModel(result);
    }

    /// <summary>Everything a Fit learns, before the ONNX export.</summary>
    internal sealed record FitResult(CoCaModelConfig Config, StateDict Vision, AttentionalPoolerWeights Pooler, AttentionalPoolerModelInfo Info,
        IReadOnlyList<AttentionalPoolerProgress> History, int BestEpoch, int FrozenBlocks);

    internal FitResult Train(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = Options;
        var host = _env.Register("FineTunedCoCa");
        using var ch = host.Start("Train");
        var cancel = o.CancellationCheck(host, "Fine-tuning");
        cancel();
        var clock = Stopwatch.StartNew();
        CheckInputColumn(input.Schema);
        var label = TrainingDataReader.GetLabel(input.Schema, o.LabelColumnName);
        var (config, weights) = LoadCheckpoint(o.Checkpoint);
        int layers = config.Vision.Layers;
        if (o.TrainableBlocks > layers)
            throw new ArgumentOutOfRangeException(nameof(Options), o.TrainableBlocks,
                $"FineTunedCoCaOptions.TrainableBlocks is {o.TrainableBlocks}, but the vision tower of '{o.Checkpoint}' has {layers} blocks.");
        int frozen = layers - (o.TrainableBlocks ?? layers);
        int seed = o.Seed ?? host.Rand.Next();
        var device = TorchDevices.Parse(o.Device);

        var inputs = new List<object>();
        var labels = TrainingDataReader.ReadLabels(input, label, [input.Schema[InputColumn]], row =>
        {
            var read = IsVideo ? BatchRows.PathReader(row, input.Schema[InputColumn], o.InputFolder, "video") : BatchRows.ImageReader(row, input.Schema[InputColumn], o.InputFolder);
            return () => inputs.Add(read());
        });
        var perClass = TrainingDataReader.ExamplesPerClass(labels, label);
        var (trainRows, validationRows) = AttentionalPoolerTrainer.Split(labels, o.ValidationFraction, seed);

        var shape = new TokenShape(o.FrameCount ?? 1, config.Vision.TokenCount, config.Vision.Width);
        o.Validate(shape);
        int heads = o.HeadsFor(shape);
        var poolerConfig = new AttentionalPoolerConfig
        {
            Frames = shape.Frames,
            TokensPerFrame = shape.TokensPerFrame,
            Dim = shape.Dim,
            Heads = heads,
            Queries = o.NumberOfQueries,
            Classes = label.Classes,
            FrameEmbeddings = shape.Frames > 1,
        };
        var plan = PoolerTrainingPlan.Create(trainRows.Length, o.BatchSize, o.NumberOfEpochs, o.WarmupSteps,
            validationRows.Length > 0 ? o.EarlyStoppingPatience : 0, PlanLengths.FineTuning);
        var precision = BFloat16Support.Resolve(o.Precision, device, line => ch.Warning(MessageSensitivity.None, "{0}", "Fine-tuned CoCa: " + line));
        var settings = new FineTuningSettings(o.LearningRate, o.EncoderLearningRate ?? o.LearningRate / 10, o.LayerDecay, o.WeightDecay,
            o.GradientClipNorm, plan, o.LabelSmoothing, o.EarlyStoppingMinDelta, device, precision);
        CatalogEnvironment.Info(ch,
            $"Fine-tuned CoCa: {labels.Length} {(IsVideo ? $"videos of {shape.Frames} frames" : "images")} ({trainRows.Length} training, {validationRows.Length} validation), " +
            $"{label.Classes} classes; {(frozen == 0 ? $"all {layers} encoder blocks" : $"the top {layers - frozen} of {layers} encoder blocks")} train " +
            $"(learning rate {settings.EncoderLearningRate:G3}{(o.LayerDecay < 1 ? $", layer decay {o.LayerDecay}" : "")}) with a new pooler and head " +
            $"(learning rate {o.LearningRate:G3}); {plan}; seed {seed}, device {o.Device}, {(precision == TrainingPrecision.BFloat16 ? "bf16" : "fp32")}" +
            $"{(o.CheckpointActivations ? ", activation checkpointing" : "")}.");

        using var generator = new torch.Generator((ulong)seed, torch.CPU);
        using var visual = CoCaVisionModel.FromStateDict(config, weights);
        using var pooler = new AttentionalPoolerModule(poolerConfig, o.Dropout, generator);
        using var model = new FineTunedCoCaModule(visual, pooler, frozen);
        model.to(device);
        visual.CheckpointActivations = o.CheckpointActivations;

        var pixels = new PixelBatches(inputs, config, o.FrameCount, device, o.Augment ? unchecked(seed * 7919 + 1) : null);
        FeatureStore? lowerStore = null;
        try
        {
            IExampleBatches batches;
            if (frozen > 0 && !o.Augment)
            {
                lowerStore = ComputeLowerBlocks(model, pixels, inputs, shape, frozen, weights, ch, cancel);
                batches = new LowerBlockBatches(lowerStore, Math.Max(plan.BatchSize, 2 * plan.BatchSize), device);
            }
            else
            {
                CheckInputsReadable(pixels, inputs.Count, cancel);
                batches = pixels;
            }
            CatalogEnvironment.Info(ch, $"Fine-tuned CoCa: inputs read and checked in {clock.Elapsed.TotalSeconds:F1} s.");

            cancel();
            var result = FineTuningLoop.Run(model, batches, labels, trainRows, validationRows, settings, seed, o.ReportTo(ch, "Fine-tuned CoCa "), cancel);
            CatalogEnvironment.Info(ch, $"Fine-tuned CoCa trained in {clock.Elapsed.TotalSeconds:F1} s; kept epoch {result.BestEpoch} of {result.History.Count}.");

            var info = o.ModelInfo(poolerConfig, CoCaColumnNames.Tokens, label, perClass, o.ScoringBatchSize);
            var vision = model.VisionStateDict($"fine-tuned from '{o.Checkpoint}'");
            return new FitResult(config, vision, result.Pooler, info, result.History, result.BestEpoch, frozen);
        }
        finally
        {
            lowerStore?.Dispose();
        }
    }

    /// <summary>The ONNX stages: the featurizer with the fine-tuned vision model (tokens only), then the pooler.</summary>
    internal TransformerChain<ITransformer> CreateModel(FitResult result)
    {
        var o = Options;
        var onnx = VisionTowerOnnx.Build(result.Config, result.Vision);
        ITransformer featurizer = IsVideo
            ? CoCaVideoFeaturizerTransformer.FromOnnx(new CoCaVideoFeaturizerOptions
            {
                InputColumnName = InputColumn,
                FrameCount = o.FrameCount!.Value,
                TokensColumnName = CoCaColumnNames.Tokens,
                EmbeddingColumnName = null,
                VideoFolder = o.InputFolder,
                FrameBatchSize = o.ScoringBatchSize,
            }, onnx, result.Config)
            : CoCaImageFeaturizerTransformer.FromOnnx(new CoCaImageFeaturizerOptions
            {
                InputColumnName = InputColumn,
                TokensColumnName = CoCaColumnNames.Tokens,
                EmbeddingColumnName = null,
                ImageFolder = o.InputFolder,
                BatchSize = o.ScoringBatchSize,
            }, onnx, result.Config);
        var pooler = new AttentionalPoolerTransformer(result.Info, result.Pooler, AttentionalPoolerOnnx.Build(result.Pooler));
        return new TransformerChain<ITransformer>(featurizer, pooler);
    }

    private void CheckInputColumn(DataViewSchema schema)
    {
        if (IsVideo)
        {
            var col = schema.GetColumnOrNull(InputColumn)
                ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{InputColumn}' not found; expected a video path (a video file or a folder of frames) per row.");
            if (col.Type is not TextDataViewType)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{InputColumn}' is {col.Type}; expected a video path (text).");
        }
        else
        {
            BatchRows.CheckImageColumn(schema, InputColumn);
        }
    }

    private static (CoCaModelConfig Config, StateDict Weights) LoadCheckpoint(string folder)
    {
        if (File.Exists(Path.Combine(folder, ConvertedModel.ManifestFile)))
            throw new ArgumentException($"'{folder}' is a converted (ONNX) model folder; fine-tuning starts from an open_clip CoCa checkpoint folder (open_clip_config.json + weights). Give the folder `coca convert` read.");
        var loaded = CheckpointLoader.Load(folder, key => key.StartsWith(CoCaVisionModel.StateDictPrefix, StringComparison.Ordinal));
        var config = loaded.Config ?? throw new CheckpointException($"Checkpoint '{folder}' has no open_clip_config.json; fine-tuning needs the model's configuration beside its weights.");
        if (!loaded.Weights.KeysWithPrefix(CoCaVisionModel.StateDictPrefix).Any())
            throw new CheckpointException($"Checkpoint '{loaded.WeightsPath}' has no vision tower (no '{CoCaVisionModel.StateDictPrefix}*' weights); a fine-tuned classifier starts from a CoCa image encoder.");
        return (config, loaded.Weights);
    }

    /// <summary>Decodes every input once before training, so that a bad file stops the Fit before any work with one line naming it.</summary>
    private static void CheckInputsReadable(PixelBatches pixels, int count, Action checkAlive)
    {
        const int chunk = 16;
        for (int start = 0; start < count; start += chunk)
        {
            checkAlive();
            var rows = Enumerable.Range(start, Math.Min(chunk, count - start)).ToArray();
            try
            {
                pixels.Pixels(rows);
            }
            catch (AggregateException e)
            {
                throw e.InnerExceptions[0];
            }
        }
    }

    /// <summary>
    /// Runs the stem and the frozen blocks once over every example into a float16 store (in memory, or on disk past the
    /// budget; reused from <see cref="FineTunedCoCaOptions.FeatureCacheDirectory"/> when the checkpoint, the frozen
    /// blocks and every input file match).
    /// </summary>
    private FeatureStore ComputeLowerBlocks(FineTunedCoCaModule model, PixelBatches pixels, IReadOnlyList<object> inputs, TokenShape shape, int frozen, StateDict weights, IChannel ch, Action checkAlive)
    {
        var o = Options;
        long budget = FeatureStoreBuilder.MemoryBudget(o.MemoryBudgetBytes);
        string temp = FeatureStoreBuilder.TempDirectory(_env);
        byte[] digest = [];
        string? cachePath = null;
        if (o.FeatureCacheDirectory is not null && inputs.All(i => i is string))
        {
            using var key = new FeatureCacheKey("fine-tuning lower blocks", shape);
            key.AddText($"frozen blocks {frozen}; frames {shape.Frames}; {weights.Source}");
            foreach (var name in weights.Keys.Order(StringComparer.Ordinal))
            {
                key.AddText(name);
                key.AddFloats(weights[name].Data);
            }
            key.AddInt(inputs.Count);
            foreach (string path in inputs.Cast<string>())
            {
                key.AddText(Path.GetFullPath(path));
                key.AddContents(path);
            }
            digest = key.Finish();
            cachePath = Path.Combine(o.FeatureCacheDirectory, FeatureCacheKey.ToFileName(digest));
            if (FileFeatureStore.TryOpen(cachePath, shape, inputs.Count, digest) is { } cached)
            {
                CatalogEnvironment.Info(ch, $"Fine-tuned CoCa: reusing the frozen blocks' outputs from '{cachePath}'.");
                FeatureCacheFolder.Tidy(o.FeatureCacheDirectory, cachePath, o.FeatureCacheLimitBytes, ch);
                return cached;
            }
        }
        else if (o.FeatureCacheDirectory is not null)
            CatalogEnvironment.Info(ch, "Fine-tuned CoCa: the frozen blocks' outputs are not cached: the inputs are in-memory images, not files whose bytes key the cache.");
        // Only a keyed run writes into the cache folder; in-memory images spill to the temporary folder like an uncached run.
        using var writer = new FeatureStoreWriter(shape, "fine-tuning lower blocks", budget, temp, cachePath is null ? null : o.FeatureCacheDirectory, cachePath is null ? inputs.Count : 0);
        const int batch = 16;
        var rowLength = shape.RowLength;
        using (torch.no_grad())
        {
            model.eval();
            for (int start = 0; start < inputs.Count; start += batch)
            {
                checkAlive();
                var rows = Enumerable.Range(start, Math.Min(batch, inputs.Count - start)).ToArray();
                using var scope = NewDisposeScope();
                Tensor lower;
                try
                {
                    lower = model.LowerBlocks(pixels.Load(rows, training: false));
                }
                catch (AggregateException e)
                {
                    throw e.InnerExceptions[0];
                }
                var values = lower.reshape(rows.Length, rowLength).cpu().contiguous().data<float>().ToArray();
                for (int i = 0; i < rows.Length; i++) writer.Append(values.AsSpan(i * rowLength, rowLength), rows[i]);
            }
            model.train();
        }
        if (cachePath is null) return writer.Complete([]);
        var written = writer.Complete(digest, cachePath);
        FeatureCacheFolder.Tidy(o.FeatureCacheDirectory!, cachePath, o.FeatureCacheLimitBytes, ch);
        return written;
    }

    /// <summary>Input plus Tokens (the fine-tuned encoder's), Score and PredictedLabel with ML.NET's scorer annotations.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var input = SchemaShapes.Find(inputSchema, InputColumn, IsVideo ? "a video path (text)" : "an image path (text) or an MLImage");
        if (IsVideo ? input.ItemType is not TextDataViewType : input.ItemType is not TextDataViewType and not Microsoft.ML.Transforms.Image.ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{InputColumn}' is {input.ItemType}; expected {(IsVideo ? "a video path (text)" : "an image path (text) or an MLImage")}.");
        var withTokens = SchemaShapes.Append(inputSchema, SchemaShapes.FloatVector(CoCaColumnNames.Tokens));
        return new AttentionalPoolerTrainer(_env, new AttentionalPoolerOptions
        {
            LabelColumnName = Options.LabelColumnName,
            ScoreColumnName = Options.ScoreColumnName,
            PredictedLabelColumnName = Options.PredictedLabelColumnName,
        }).GetOutputSchema(withTokens);
    }
}

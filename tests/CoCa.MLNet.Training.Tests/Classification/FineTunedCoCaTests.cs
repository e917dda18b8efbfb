using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Video;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using Xunit;
using static CoCa.MLNet.Tests.Shared.TinyCheckpoint;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Tests.Classification;

public sealed class FineTunedCoCaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetuned-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Row
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private IDataView Images(MLContext ml, int classes = 3, int perClass = 8, int seed = 0)
    {
        var files = SyntheticImageDataset.Generate(Path.Combine(_dir, $"images-{seed}"), classes, perClass, 40, 36, seed);
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(files.Select(f => new Row { Image = f.Path, Label = f.Label })))
            .Transform(ml.Data.LoadFromEnumerable(files.Select(f => new Row { Image = f.Path, Label = f.Label })));
    }

    private FineTunedCoCaOptions Options(string checkpoint, int? trainableBlocks = null) => new()
    {
        Checkpoint = checkpoint,
        TrainableBlocks = trainableBlocks,
        NumberOfEpochs = 3,
        BatchSize = 8,
        LearningRate = 3e-3,
        EncoderLearningRate = 1e-3,
        Seed = 0,
        ValidationFraction = 0.25,
    };

    [Fact]
    public void OnnxScoresEqualTheTorchSharpModelInEvalMode()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml);
        var trainer = ml.MulticlassClassification.Trainers.FineTunedCoCa(Options(RandomCheckpoint(_dir)));
        var result = trainer.Train(data);
        using var model = trainer.CreateModel(result);
        var scores = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).ToList();

        var reference = TorchSharpScores(result, data, ml);
        Assert.Equal(reference.Length, scores.Count);
        double worst = 0;
        for (int i = 0; i < scores.Count; i++)
            for (int k = 0; k < reference[i].Length; k++)
                worst = Math.Max(worst, Math.Abs(scores[i].Score[k] - reference[i][k]) / Math.Max(1e-6, reference[i].Max()));
        Assert.True(worst <= 1e-4, $"ONNX scores differ from the TorchSharp model's by {worst:E2} (relative)");

        // It did fine-tune: the encoder's weights moved from the checkpoint's.
        var start = CheckpointLoader.Load(Path.Combine(_dir, "checkpoint")).Weights;
        const string key = "visual.transformer.resblocks.0.mlp.c_fc.weight";
        Assert.False(start[key].Data.SequenceEqual(result.Vision[key].Data), "the lowest block did not train");
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    /// <summary>softmax(logits) of the trained module rebuilt from the Fit's weights, in eval mode, on the same pictures (or videos).</summary>
    private static float[][] TorchSharpScores(FineTunedCoCaTrainer.FitResult result, IDataView data, MLContext ml, int? frames = null)
    {
        var paths = data.GetColumn<string>(frames is null ? "Image" : "Video").Select(p => (object)p).ToList();
        using var visual = CoCaVisionModel.FromStateDict(result.Config, result.Vision);
        using var pooler = new AttentionalPoolerModule(result.Pooler.Config);
        pooler.LoadWeights(result.Pooler);
        using var module = new FineTunedCoCaModule(visual, pooler, frozenBlocks: 0);
        module.eval();
        var pixels = new PixelBatches(paths, result.Config, frames, torch.CPU, null);
        using var _ = torch.no_grad();
        using var logits = module.forward(pixels.Load(Enumerable.Range(0, paths.Count).ToArray(), training: false));
        using var probabilities = logits.softmax(1);
        var flat = probabilities.data<float>().ToArray();
        int k = (int)logits.shape[1];
        return Enumerable.Range(0, paths.Count).Select(i => flat.AsSpan(i * k, k).ToArray()).ToArray();
    }

    private sealed class VideoRow
    {
        public string Video { get; set; } = "";
        public string Label { get; set; } = "";
    }

    [Fact]
    public void VideoFramesGoThroughTheSharedEncoderAndTheMultiFramePooler()
    {
        var ml = new MLContext(seed: 0);
        var videos = VideoDatasetGenerator.GenerateMotionDataset(Path.Combine(_dir, "videos"), new MotionDatasetOptions
        {
            VideosPerClass = 4, Width = 40, Height = 40, FrameCount = 8, Format = VideoOutputFormat.PngFrames,
            Directions = [MotionDirection.Left, MotionDirection.Right],
        });
        var rows = videos.Select(v => new VideoRow { Video = v.Path, Label = v.Label }).ToList();
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var options = Options(RandomCheckpoint(_dir));
        options.FrameCount = 4;
        options.NumberOfEpochs = 2;
        var trainer = ml.MulticlassClassification.Trainers.FineTunedCoCa(options);
        var result = trainer.Train(data);
        Assert.True(result.Pooler.Config.FrameEmbeddings);
        Assert.Equal(4, result.Pooler.Config.Frames);
        using var model = trainer.CreateModel(result);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToList();
        var reference = TorchSharpScores(result, data, ml, frames: 4);
        double worst = 0;
        for (int i = 0; i < scores.Count; i++)
            for (int k = 0; k < reference[i].Length; k++)
                worst = Math.Max(worst, Math.Abs(scores[i][k] - reference[i][k]) / Math.Max(1e-6, reference[i].Max()));
        Assert.True(worst <= 1e-4, $"ONNX video scores differ from the TorchSharp model's by {worst:E2} (relative)");
    }

    [Fact]
    public void PartialFineTuningTrainsOnlyTheTopBlocksOverCachedLowerOutputs()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml);
        var checkpoint = RandomCheckpoint(_dir);
        var cache = Path.Combine(_dir, "cache");
        var options = Options(checkpoint, trainableBlocks: 1);
        options.FeatureCacheDirectory = cache;
        var result = ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Train(data);

        var start = CheckpointLoader.Load(checkpoint).Weights;
        foreach (var key in new[] { "visual.conv1.weight", "visual.positional_embedding", "visual.transformer.resblocks.0.attn.in_proj_weight" })
            Assert.True(start[key].Data.SequenceEqual(result.Vision[key].Data), $"{key} is frozen but changed");
        Assert.False(start["visual.transformer.resblocks.1.attn.in_proj_weight"].Data.SequenceEqual(result.Vision["visual.transformer.resblocks.1.attn.in_proj_weight"].Data), "the top block did not train");
        var cached = Directory.GetFiles(cache, "coca-features-*.f16");
        Assert.Single(cached);

        // A second Fit reads the cache (same bytes → same key) and trains the same weights.
        var again = ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Train(data);
        Assert.Equal(cached, Directory.GetFiles(cache, "coca-features-*.f16"));
        Assert.Equal(result.Pooler.Tensors[AttentionalPoolerWeights.HeadWeightName], again.Pooler.Tensors[AttentionalPoolerWeights.HeadWeightName]);
    }

    [Fact]
    public void InMemoryImagesWithACacheFolder_TrainWithoutCaching()
    {
        // MLImage inputs have no file bytes to key the cache by: partial fine-tuning computes the frozen blocks per Fit
        // and says so, instead of failing at the end of that pass (it once did, with an ArgumentNullException).
        var ml = new MLContext(seed: 0);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.RawMessage.Contains("not cached", StringComparison.Ordinal)) lock (log) log.Add(e.RawMessage); };
        var labeled = Images(ml);
        var withPath = ml.Transforms.CopyColumns("Path", "Image").Fit(labeled).Transform(labeled);
        var data = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "Path").Fit(withPath).Transform(withPath);
        var cache = Path.Combine(_dir, "cache");
        var options = Options(RandomCheckpoint(_dir), trainableBlocks: 1);
        options.NumberOfEpochs = 1;
        options.FeatureCacheDirectory = cache;
        var result = ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Train(data);
        Assert.NotNull(result.Pooler);
        Assert.Single(log);
        Assert.True(!Directory.Exists(cache) || Directory.GetFiles(cache).Length == 0, "in-memory images left files in the cache folder");
    }

    [Fact]
    public void SameSeedTrainsTheSameWeights()
    {
        var checkpoint = RandomCheckpoint(_dir);
        FineTunedCoCaTrainer.FitResult Fit()
        {
            var ml = new MLContext(seed: 0);
            var options = Options(checkpoint);
            options.Augment = true;   // the crops and flips come from the seed too
            return ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Train(Images(ml));
        }
        var a = Fit();
        var b = Fit();
        foreach (var key in a.Vision.Keys)
            Assert.True(a.Vision[key].Data.SequenceEqual(b.Vision[key].Data), $"{key} differs between two runs with one seed");
        foreach (var (name, values) in a.Pooler.Tensors)
            Assert.Equal(values, b.Pooler.Tensors[name]);
    }

    [Fact]
    public void SavedModelScoresTheSameAfterLoading()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml);
        var options = Options(RandomCheckpoint(_dir));
        options.NumberOfEpochs = 1;
        var pipeline = ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        var path = Path.Combine(_dir, "classifier.zip");
        ml.Model.SaveCoCa(model, data.Schema, path);
        var loaded = new MLContext().Model.LoadCoCa(path, out _);
        var before = model.Transform(data).GetColumn<float[]>("Score").ToList();
        var after = loaded.Transform(data).GetColumn<float[]>("Score").ToList();
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        Assert.Equal(model.Transform(data).GetColumn<string>("PredictedLabel"), loaded.Transform(data).GetColumn<string>("PredictedLabel"));
    }

    [Fact]
    public void MistakesAreOneClearLineBeforeTraining()
    {
        var ml = new MLContext(seed: 0);
        var data = Images(ml, perClass: 3);
        var checkpoint = RandomCheckpoint(_dir);

        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(Options(checkpoint, trainableBlocks: 3)).Fit(data));
        Assert.Contains("has 2 blocks", tooMany.Message);

        var converted = Path.Combine(_dir, "converted");
        CoCa.MLNet.Conversion.CoCaConverter.Convert(checkpoint, converted);
        var wrongFolder = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(Options(converted)).Fit(data));
        Assert.Contains("converted (ONNX) model folder", wrongFolder.Message);

        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(new FineTunedCoCaOptions { Checkpoint = checkpoint, LayerDecay = 0 }));
        Assert.Contains("LayerDecay", bad.Message);

        // A corrupt picture among good ones: named before any training.
        var corrupt = Path.Combine(_dir, "corrupt.png");
        File.WriteAllBytes(corrupt, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var rows = data.GetColumn<string>("Image").Select(p => new Row { Image = p, Label = Path.GetFileName(Path.GetDirectoryName(p))! }).ToList();
        rows.Add(new Row { Image = corrupt, Label = rows[0].Label });
        var mixed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var epochs = 0;
        var options = Options(checkpoint);
        options.Progress = new InlineProgress<AttentionalPoolerProgress>(_ => epochs++);
        var unreadable = Assert.Throws<InvalidDataException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Fit(mixed));
        Assert.Contains("corrupt.png", unreadable.Message);
        Assert.Equal(0, epochs);
    }

    [Fact]
    public void Cancellation_StopsFitAtTheNextStep()
    {
        var ml = new MLContext(seed: 0);
        using var cts = new CancellationTokenSource();
        var epochs = 0;
        var options = Options(RandomCheckpoint(_dir));
        options.NumberOfEpochs = 20;
        options.Cancellation = cts.Token;
        options.Progress = new InlineProgress<AttentionalPoolerProgress>(_ => { epochs++; cts.Cancel(); });
        var e = Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Fit(Images(ml, perClass: 3)));
        Assert.Equal(1, epochs);
        Assert.Contains("canceled", e.Message);
    }

    [Fact]
    public void DivergenceStopsWithOneLineNamingTheLearningRate()
    {
        var ml = new MLContext(seed: 0);
        var options = Options(RandomCheckpoint(_dir));
        options.LearningRate = 1e9;
        options.EncoderLearningRate = 1e9;
        options.GradientClipNorm = 0;
        var e = Assert.Throws<CoCa.MLNet.Training.Optimization.TrainingDivergedException>(() => ml.MulticlassClassification.Trainers.FineTunedCoCa(options).Fit(Images(ml)));
        Assert.Contains("diverged", e.Message);
        Assert.Contains("learning rate", e.Message);
    }
}

public sealed class FineTunedCoCaLearnsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-finetuned-learns-").FullName;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public FineTunedCoCaLearnsTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Row
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }

    /// <summary>
    /// A domain the encoder was not made for: its patch embedding sums the three colour channels (as an encoder
    /// pretrained on greyscale pictures would), so its frozen tokens barely tell red from green; the task is the colour
    /// of the kit's captioned pictures. Fine-tuning the encoder (its patch embedding included) with the defaults must
    /// get well above the frozen pooler.
    /// </summary>
    [Fact]
    public void FineTuningLearnsWhatTheFrozenEncoderCannotSee()
    {
        var weights = RandomCoCaCheckpoint.Create(TinyCoCa.Config, seed: 3, includeText: false);
        GreyscaleEncoder.Average(weights, TinyCoCa.Config);
        var checkpoint = Path.Combine(_dir, "checkpoint");
        Directory.CreateDirectory(checkpoint);
        SafetensorsWriter.Write(Path.Combine(checkpoint, CheckpointLoader.HubSafetensorsFile), weights);
        OpenClipConfigWriter.Write(TinyCoCa.Config, checkpoint);

        var ml = new MLContext(seed: 0);
        IDataView Pictures(int count, int seed) => ml.Data.LoadFromEnumerable(
            CaptionedPicturesDataset.Generate(Path.Combine(_dir, $"pictures-{seed}"), count, TinyCoCa.ImageSize, seed).Select(p => new Row { Image = p.Path, Label = p.Colour }).ToList());
        var train = Pictures(240, seed: 1);
        var test = Pictures(120, seed: 2);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        train = toKey.Transform(train);
        test = toKey.Transform(test);

        var converted = Path.Combine(_dir, "converted");
        CoCa.MLNet.Conversion.CoCaConverter.Convert(checkpoint, converted);
        var frozen = ml.Transforms.ExtractCoCaImageFeatures(converted, embeddingColumnName: null)
            .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { Seed = 0 }))
            .Fit(train);
        double frozenTop1 = ml.MulticlassClassification.Evaluate(frozen.Transform(test)).MicroAccuracy;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var fineTuned = ml.MulticlassClassification.Trainers.FineTunedCoCa(new FineTunedCoCaOptions { Checkpoint = checkpoint, Seed = 0 }).Fit(train);
        double fineTunedTop1 = ml.MulticlassClassification.Evaluate(fineTuned.Transform(test)).MicroAccuracy;
        var line = $"colour of the kit's pictures, colour-blind tiny encoder: frozen pooler top-1 {frozenTop1:P1}, fine-tuned (defaults) {fineTunedTop1:P1} in {clock.Elapsed.TotalSeconds:F0} s";
        _output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(fineTunedTop1 >= frozenTop1 + 0.2, $"fine-tuned top-1 {fineTunedTop1:P1} is not well above the frozen pooler's {frozenTop1:P1}");
    }
}

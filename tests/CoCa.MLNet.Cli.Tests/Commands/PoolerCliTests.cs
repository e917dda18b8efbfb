using System.Globalization;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>A small random CoCa (converted) and a generated 5-class image set, made once for the CLI tests.</summary>
public sealed class PoolerCliFixture : IDisposable
{
    public PoolerCliFixture()
    {
        Root = Directory.CreateTempSubdirectory("coca-pooler-cli-").FullName;
        var b32 = CoCaConfigs.Get("coca_ViT-B-32");
        var config = Config = b32 with
        {
            Name = "coca_cli_test",
            EmbedDim = 32,
            Vision = b32.Vision with { ImageSize = 64, PatchSize = 16, Width = 64, Layers = 2, HeadWidth = 32, AttnPoolerQueries = 4, AttnPoolerHeads = 2 },
            Text = b32.Text with { Width = 32, Heads = 2, Layers = 1 },
            Multimodal = b32.Multimodal with { Width = 32, Heads = 2, Layers = 1 },
            Preprocess = b32.Preprocess with { ImageSize = 64 },
        };
        var weights = RandomCoCaCheckpoint.Create(config, seed: 3, includeText: false);
        ModelDir = CoCaConverter.Convert(weights, config, Path.Combine(Root, "model")).Directory;
        Int8ModelDir = CoCaConverter.Convert(weights, config, Path.Combine(Root, "model-int8"), precision: CoCa.MLNet.Configuration.VisionPrecision.Int8).Directory;
        DataDir = Path.Combine(Root, "data");
        Images = SyntheticImageDataset.Generate(DataDir, classCount: 5, perClass: 6, width: 64, height: 64, seed: 2);
    }

    private readonly object _trainLock = new();
    private string? _trained;

    /// <summary>A model trained once (one epoch) for the tests that only score.</summary>
    public string TrainedModel
    {
        get
        {
            lock (_trainLock) return _trained ??= TrainOnce(Root, ModelDir, DataDir);
        }
    }

    private static string TrainOnce(string root, string modelDir, string dataDir)
    {
        var path = Path.Combine(root, "trained-once.zip");
        var run = CliProcess.Run("train", "--model", modelDir, "--data", dataDir, "--out", path, "--epochs", "1", "--batch-size", "16");
        if (run.ExitCode != 0) throw new InvalidOperationException("coca train failed: " + run.StdErr);
        return path;
    }

    public string Root { get; }

    /// <summary>The small CoCa's config; its weights are <c>RandomCoCaCheckpoint.Create(Config, seed: 3, includeText: false)</c>.</summary>
    public CoCaModelConfig Config { get; }
    public string ModelDir { get; }

    /// <summary>The same weights converted with <c>--precision int8</c>.</summary>
    public string Int8ModelDir { get; }
    public string DataDir { get; }
    public IReadOnlyList<(string Path, string Label)> Images { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary><c>coca train / evaluate / predict</c> end to end, as a user runs them (separate processes).</summary>
public class PoolerCliTests(PoolerCliFixture fx, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PoolerCliFixture>
{
    private static readonly string[] Classes = ["bar", "circle", "cross", "ring", "square", "triangle"];

    [Fact]
    public void TrainEvaluatePredict_OnAFolderPerClassDataset()
    {
        var model = Path.Combine(fx.Root, "classifier.zip");
        var cache = Path.Combine(fx.Root, "cache");
        string[] train = ["train", "--model", fx.ModelDir, "--data", fx.DataDir, "--out", model, "--epochs", "3", "--batch-size", "8", "--lr", "3e-3", "--queries", "2", "--seed", "4", "--cache", cache];
        var run = CliProcess.Run(train);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("Training on 30 images of 5 classes (circle, cross, ring, square, triangle)", run.StdOut);
        Assert.Contains("epoch 3/3", run.StdOut);
        Assert.True(File.Exists(model));

        // A second run on the same data and model reads the features from the cache.
        var again = CliProcess.Run([.. train[..6], Path.Combine(fx.Root, "again.zip"), .. train[7..]]);
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Contains("reusing feature cache", again.StdOut);

        var evaluate = CliProcess.Run("evaluate", "--model", model, "--data", fx.DataDir);
        Assert.True(evaluate.ExitCode == 0, evaluate.StdErr);
        Assert.Contains("examples: 30, classes: 5", evaluate.StdOut);
        Assert.Matches(@"top-1 accuracy: \d+(\.\d)? %", evaluate.StdOut);
        // Five classes: the true one is always among the top five, so top-5 accuracy (100 % for any model) is not shown.
        Assert.DoesNotContain("top-5", evaluate.StdOut);
        Assert.Contains("per-class recall:", evaluate.StdOut);
        var matrix = evaluate.StdOut[evaluate.StdOut.IndexOf("confusion matrix", StringComparison.Ordinal)..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, matrix.Length);   // title, header, five rows
        foreach (var row in matrix[2..])
            Assert.Equal(6, row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Sum(v => int.Parse(v, CultureInfo.InvariantCulture)));

        var inputs = new[] { fx.Images[0].Path, fx.Images[^1].Path };
        var predict = CliProcess.Run(["predict", "--model", model, .. inputs]);
        Assert.True(predict.ExitCode == 0, predict.StdErr);
        var lines = predict.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        for (int i = 0; i < 2; i++)
        {
            var parts = lines[i].Split('\t');
            Assert.Equal(inputs[i], parts[0]);
            Assert.Contains(parts[1], Classes);
            Assert.InRange(double.Parse(parts[2], CultureInfo.InvariantCulture), 0.2, 1.0);   // the most probable of five classes
        }
    }

    [Fact]
    public void TrainFromFeatureShards_EqualsTrainingFromTheImages()
    {
        // Featurize once, in shards (one process each, as a cluster would), then train from the shards: no encoder run.
        var shards = Path.Combine(fx.Root, "shards");
        for (int i = 0; i < 2; i++)
        {
            var featurize = CliProcess.Run("featurize", "--model", fx.ModelDir, "--data", fx.DataDir, "--format", "parquet", "--shard", $"{i}/2", "--out", shards);
            Assert.True(featurize.ExitCode == 0, featurize.StdErr);
        }
        Assert.Equal(2, Directory.GetFiles(shards, "*.parquet").Length);
        string[] options = ["--epochs", "3", "--batch-size", "8", "--lr", "3e-3", "--seed", "4"];
        var fromShards = Path.Combine(fx.Root, "from-shards.zip");
        var run = CliProcess.Run(["train", "--model", fx.ModelDir, "--features", shards, "--out", fromShards, .. options]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("Trained on 30 precomputed images of 5 classes (circle, cross, ring, square, triangle)", run.StdOut);
        var fromImages = Path.Combine(fx.Root, "from-images.zip");
        run = CliProcess.Run(["train", "--model", fx.ModelDir, "--data", fx.DataDir, "--out", fromImages, .. options]);
        Assert.True(run.ExitCode == 0, run.StdErr);

        // The saved model holds the featurizer: it scores image files, exactly as the one trained from the images.
        var a = CliProcess.Run("evaluate", "--model", fromShards, "--data", fx.DataDir);
        var b = CliProcess.Run("evaluate", "--model", fromImages, "--data", fx.DataDir);
        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.Equal(b.StdOut, a.StdOut);

        // Shards of another model are refused with one line.
        var otherModel = Path.Combine(fx.Root, "shards-of-tiny");
        var other = CliProcess.Run("featurize", "--model", fx.ModelDir, "--data", fx.DataDir, "--format", "parquet", "--output", "embedding", "--shard", "0/1", "--out", otherModel);
        Assert.True(other.ExitCode == 0, other.StdErr);
        AssertOneLineError(CliProcess.Run("train", "--model", fx.ModelDir, "--features", otherModel, "--out", Path.Combine(fx.Root, "x.zip")), "hold embeddings");
    }

    [Fact]
    public void Int8Features_KeepThePoolersAccuracyWithinOnePoint()
    {
        // The image task (5 classes of shapes) and the video task (motion left/right, 2 frames), each trained and
        // evaluated on fp32 and on int8 features of the same weights.
        var videos = Path.Combine(fx.Root, "int8-videos");
        VideoDatasetGenerator.GenerateMotionDataset(videos, new MotionDatasetOptions
        {
            VideosPerClass = 6, FrameCount = 4, Width = 64, Height = 64, Format = VideoOutputFormat.PngFrames, Directions = [MotionDirection.Left, MotionDirection.Right],
        });
        foreach (var (data, extra) in new[] { (fx.DataDir, Array.Empty<string>()), (videos, new[] { "--video", "--frames", "2" }) })
        {
            var accuracy = new Dictionary<string, double>();
            foreach (var (name, modelDir) in new[] { ("fp32", fx.ModelDir), ("int8", fx.Int8ModelDir) })
            {
                var model = Path.Combine(fx.Root, $"acc-{name}-{Path.GetFileName(data)}.zip");
                var train = CliProcess.Run(["train", "--model", modelDir, "--data", data, "--out", model, "--epochs", "10", "--batch-size", "8", "--lr", "3e-3", "--seed", "1", "--validation-fraction", "0", .. extra]);
                Assert.True(train.ExitCode == 0, train.StdErr);
                var evaluate = CliProcess.Run("evaluate", "--model", model, "--data", data);
                Assert.True(evaluate.ExitCode == 0, evaluate.StdErr);
                var m = System.Text.RegularExpressions.Regex.Match(evaluate.StdOut, @"top-1 accuracy: (\d+(\.\d)?) %");
                Assert.True(m.Success, evaluate.StdOut);
                accuracy[name] = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            output.WriteLine($"{Path.GetFileName(data)}: top-1 fp32 {accuracy["fp32"]} %, int8 {accuracy["int8"]} %");
            Assert.True(Math.Abs(accuracy["int8"] - accuracy["fp32"]) <= 1.0, $"{data}: int8 features give {accuracy["int8"]} % top-1, fp32 {accuracy["fp32"]} %");
        }
    }

    [Fact]
    public void BadInput_EndsWithOneClearLine()
    {
        var model = Path.Combine(fx.Root, "bad.zip");
        var missing = CliProcess.Run("train", "--model", fx.ModelDir, "--data", Path.Combine(fx.Root, "nowhere"), "--out", model);
        AssertOneLineError(missing, $"--data '{Path.Combine(fx.Root, "nowhere")}' does not exist", exitCode: 2);   // checked at parse time
        Assert.False(File.Exists(model));

        var oneClass = Path.Combine(fx.Root, "one-class");
        Directory.CreateDirectory(Path.Combine(oneClass, "circle"));
        foreach (var (path, _) in fx.Images.Where(i => i.Label == "circle"))
            File.Copy(path, Path.Combine(oneClass, "circle", Path.GetFileName(path)), overwrite: true);
        var oneClassRun = CliProcess.Run("train", "--model", fx.ModelDir, "--data", oneClass, "--out", model);
        AssertOneLineError(oneClassRun, "at least two classes");
        Assert.Contains("Training on 6 images of 1 class (circle)", oneClassRun.StdOut);   // not "1 classes"

        AssertOneLineError(CliProcess.Run("predict", "--model", Path.Combine(fx.Root, "no-such-model.zip"), fx.Images[0].Path), "does not exist", exitCode: 2);
    }

    [Fact]
    public void Train_WithAFarTooHighLearningRate_StopsWithOneLine_AndWritesNoModel()
    {
        var model = Path.Combine(fx.Root, "diverged.zip");
        var run = CliProcess.Run("train", "--model", fx.ModelDir, "--data", fx.DataDir, "--out", model, "--epochs", "2", "--batch-size", "8", "--lr", "1e9");
        AssertOneLineError(run, "Training diverged at epoch 1, step ");
        Assert.Contains("learning rate is likely too high", run.StdErr);
        Assert.DoesNotContain("NaN", run.StdOut);   // no epoch reported a NaN loss as a result
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void TrainFromFeaturesOfAnotherEncoder_SaysWhatDiffers_InOneLine()
    {
        var features = Path.Combine(fx.Root, "fp32-features.parquet");
        var featurize = CliProcess.Run("featurize", "--model", fx.ModelDir, "--data", fx.DataDir, "--out", features);
        Assert.True(featurize.ExitCode == 0, featurize.StdErr);
        // The int8 conversion of the same weights: tokens of the same shape from another encoder.
        var model = Path.Combine(fx.Root, "mismatched.zip");
        var run = CliProcess.Run("train", "--model", fx.Int8ModelDir, "--features", features, "--out", model, "--epochs", "1");
        AssertOneLineError(run, $"were not made by model '{fx.Int8ModelDir}': their tokens have its shape (Vector<Single, 17, 64>) but another encoder's fingerprint");
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void Evaluate_OnSomeOfTheClasses_ShowsNoRecallForTheOthers_NotZero()
    {
        var some = Path.Combine(fx.Root, "some-classes");
        foreach (var (path, label) in fx.Images.Where(i => i.Label is "circle" or "square").GroupBy(i => i.Label).SelectMany(g => g.Take(g.Key == "circle" ? 1 : 3)))
        {
            Directory.CreateDirectory(Path.Combine(some, label));
            File.Copy(path, Path.Combine(some, label, Path.GetFileName(path)));
        }
        var run = CliProcess.Run("evaluate", "--model", fx.TrainedModel, "--data", some);
        Assert.True(run.ExitCode == 0, run.StdErr);
        var recall = run.StdOut.Split('\n').SkipWhile(l => l != "per-class recall:").Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, recall.Count);
        Assert.Contains(recall, l => l.StartsWith("  circle ", StringComparison.Ordinal) && l.EndsWith("(1 example)", StringComparison.Ordinal));
        Assert.Contains(recall, l => l.StartsWith("  square ", StringComparison.Ordinal) && l.EndsWith("(3 examples)", StringComparison.Ordinal));
        // The three classes the data holds no example of: no recall, where ML.NET's 0 read as "always missed".
        Assert.Equal(3, recall.Count(l => l.EndsWith("-  (no examples)", StringComparison.Ordinal)));
        Assert.DoesNotContain("(0 examples)", run.StdOut);
    }

    [Fact]
    public void Evaluate_OnAClassTheModelNeverSaw_IsAClearError()
    {
        var model = Path.Combine(fx.Root, "small.zip");
        var run = CliProcess.Run("train", "--model", fx.ModelDir, "--data", fx.DataDir, "--out", model, "--epochs", "1", "--batch-size", "16");
        Assert.True(run.ExitCode == 0, run.StdErr);
        var other = Path.Combine(fx.Root, "other-data");
        SyntheticImageDataset.Generate(other, classCount: 6, perClass: 1, width: 64, height: 64, seed: 9);   // adds "bar"
        AssertOneLineError(CliProcess.Run("evaluate", "--model", model, "--data", other), "'bar' name classes the model was not trained on");
    }

    [Fact]
    public void TrainAndPredictVideos_FromFrameFolders()
    {
        var data = Path.Combine(fx.Root, "videos");
        VideoDatasetGenerator.GenerateMotionDataset(data, new MotionDatasetOptions
        {
            VideosPerClass = 3, FrameCount = 4, Width = 64, Height = 64, Format = VideoOutputFormat.PngFrames, Directions = [MotionDirection.Left, MotionDirection.Right],
        });
        var model = Path.Combine(fx.Root, "video.zip");
        var run = CliProcess.Run("train", "--model", fx.ModelDir, "--data", data, "--out", model, "--video", "--frames", "2", "--epochs", "2", "--batch-size", "4");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("Training on 6 videos of 2 classes (left, right)", run.StdOut);
        Assert.Contains("[2, 17, 64] tokens", run.StdOut);
        Assert.Contains("frame embeddings on", run.StdOut);

        var video = Directory.GetDirectories(Path.Combine(data, "left")).Order().First();
        var predict = CliProcess.Run("predict", "--model", model, video);
        Assert.True(predict.ExitCode == 0, predict.StdErr);
        Assert.Matches(@"\t(left|right)\t(0|1)\.\d{4}$", predict.StdOut.Trim());

        // A corrupt video among good ones: the good one is still predicted, the corrupt one named on one line, exit code 1.
        var corrupt = Path.Combine(fx.Root, "corrupt.mp4");
        File.WriteAllBytes(corrupt, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);
        var mixed = CliProcess.Run("predict", "--model", model, corrupt, video);
        Assert.True(mixed.ExitCode == 1, mixed.StdOut + mixed.StdErr);
        Assert.Matches(@"\t(left|right)\t(0|1)\.\d{4}$", mixed.StdOut.Trim());
        var error = Assert.Single(mixed.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: ", error);
        Assert.Contains(corrupt, error);
    }

    [Fact]
    public void Train_WithCache_FeaturizesAgainWhenFilesWereSwappedUnderTheSameNames()
    {
        // The issue's trial: the pictures of two class folders swapped, file names kept; the cache must not serve the old features.
        var data = TwoClasses("swap-data");
        var cache = Path.Combine(fx.Root, "swap-cache");
        string[] train = ["train", "--model", fx.ModelDir, "--data", data, "--out", Path.Combine(fx.Root, "swap.zip"), "--epochs", "1", "--batch-size", "4", "--cache", cache];
        var first = CliProcess.Run(train);
        Assert.True(first.ExitCode == 0, first.StdErr);
        var again = CliProcess.Run(train);
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Contains("reusing feature cache", again.StdOut);

        var circles = Directory.GetFiles(Path.Combine(data, "circle")).Order(StringComparer.Ordinal).ToArray();
        var squares = Directory.GetFiles(Path.Combine(data, "square")).Order(StringComparer.Ordinal).ToArray();
        for (int i = 0; i < circles.Length; i++)
        {
            var (tc, ts) = (File.GetLastWriteTimeUtc(circles[i]), File.GetLastWriteTimeUtc(squares[i]));
            var (bc, bs) = (File.ReadAllBytes(circles[i]), File.ReadAllBytes(squares[i]));
            File.WriteAllBytes(circles[i], bs);
            File.WriteAllBytes(squares[i], bc);
            File.SetLastWriteTimeUtc(circles[i], tc);
            File.SetLastWriteTimeUtc(squares[i], ts);
        }
        var swapped = CliProcess.Run(train);
        Assert.True(swapped.ExitCode == 0, swapped.StdErr);
        Assert.DoesNotContain("reusing feature cache", swapped.StdOut);
        Assert.Matches(@"Feature cache '.*swap-cache': 2 files, \d+(\.\d)? KiB\.", swapped.StdOut);   // the folder grows, and says so

        // --cache-limit bounds it: the least recently used file (the pictures before the swap) goes, the one in use stays.
        var bounded = CliProcess.Run([.. train, "--cache-limit", "1K"]);
        Assert.True(bounded.ExitCode == 0, bounded.StdErr);
        Assert.Contains("reusing feature cache", bounded.StdOut);
        Assert.Matches(@"Feature cache '.*swap-cache': 1 file, .* \(limit 1 KiB\); removed the 1 least recently used \(.*\); still over it: the file in use \(.*\) is kept\.", bounded.StdOut);
        Assert.Single(Directory.GetFiles(cache, "*.f16"));
        Assert.Empty(Directory.GetFiles(cache, "*.partial"));
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
        Assert.Empty(Directory.GetFiles(fx.Root, "*.tmp"));
    }

    [Fact]
    public void Predict_UndecodableInputs_AreNamedOnOneLineEach_AfterTheGoodResults()
    {
        var bad = Path.Combine(fx.Root, "bad-inputs");
        Directory.CreateDirectory(bad);
        var truncated = Path.Combine(bad, "truncated.png");
        var bytes = File.ReadAllBytes(fx.Images[0].Path);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var empty = Path.Combine(bad, "empty.png");
        File.WriteAllBytes(empty, []);
        string[] inputs = [fx.Images[0].Path, truncated, fx.Images[1].Path, empty, fx.Images[2].Path];

        var predict = CliProcess.Run(["predict", "--model", fx.TrainedModel, .. inputs]);
        Assert.True(predict.ExitCode == 1, predict.StdOut + predict.StdErr);
        var lines = predict.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 3, predict.StdOut + predict.StdErr);
        Assert.Equal([fx.Images[0].Path, fx.Images[1].Path, fx.Images[2].Path], lines.Select(l => l.Split('\t')[0]));
        var errors = predict.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, errors.Length);
        Assert.StartsWith("coca: ", errors[0]);
        Assert.Contains(truncated, errors[0]);
        Assert.Contains("expected", errors[0]);
        Assert.Contains(empty, errors[1]);
        Assert.Contains("0 bytes", errors[1]);
        Assert.DoesNotContain("Splitter", predict.StdErr);
    }

    [Fact]
    public void Predict_WithAModelThatComputesNaN_SaysSoOnce_NotOncePerInput()
    {
        // The trained model's vision ONNX swapped for the same CoCa with overflowing weights (a diverged training): every
        // input then scores NaN. That is the model's fault, not the inputs'; it was reported once per input.
        var weights = RandomCoCaCheckpoint.Create(fx.Config, seed: 3, includeText: false);
        var conv = weights["visual.conv1.weight"].Data;
        float max = conv.Max(Math.Abs);
        for (int i = 0; i < conv.Length; i++) conv[i] = conv[i] / max * 3e38f;
        var overflowingDir = CoCaConverter.Convert(weights, fx.Config, Path.Combine(fx.Root, "model-overflowing")).Directory;
        var model = Path.Combine(fx.Root, "trained-overflowing.zip");
        File.Copy(fx.TrainedModel, model, overwrite: true);
        int swapped = 0;
        using (var zip = System.IO.Compression.ZipFile.Open(model, System.IO.Compression.ZipArchiveMode.Update))
        {
            foreach (var good in Directory.GetFiles(fx.ModelDir))
            {
                var goodBytes = File.ReadAllBytes(good);
                foreach (var entry in zip.Entries.ToList())
                {
                    using (var ms = new MemoryStream())
                    {
                        using (var s = entry.Open()) s.CopyTo(ms);
                        if (!ms.ToArray().AsSpan().SequenceEqual(goodBytes)) continue;
                    }
                    var name = entry.FullName;
                    entry.Delete();
                    using var replacement = zip.CreateEntry(name).Open();
                    replacement.Write(File.ReadAllBytes(Path.Combine(overflowingDir, Path.GetFileName(good))));
                    swapped++;
                }
            }
        }
        Assert.True(swapped > 0, "the trained model holds no file of the converted model");

        string[] inputs = [.. fx.Images.Take(5).Select(i => i.Path)];
        var predict = CliProcess.Run(["predict", "--model", model, .. inputs]);
        Assert.True(predict.ExitCode == 1, predict.StdOut + predict.StdErr);
        Assert.Equal("", predict.StdOut);
        var error = Assert.Single(predict.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("coca: The CoCa vision model", error);
        Assert.Contains("its weights overflow or hold NaN", error);
    }

    [Fact]
    public void Predict_MissingInputs_AreNamedLikeUnreadableOnes_AndTheOthersStillPredicted()
    {
        var gone = Path.Combine(fx.Root, "no-such-photo.png");
        var goneFolder = Path.Combine(fx.Root, "no-such-folder");
        string[] inputs = [fx.Images[0].Path, gone, fx.Images[1].Path, goneFolder];

        var predict = CliProcess.Run(["predict", "--model", fx.TrainedModel, .. inputs]);
        Assert.True(predict.ExitCode == 1, predict.StdOut + predict.StdErr);
        var lines = predict.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([fx.Images[0].Path, fx.Images[1].Path], lines.Select(l => l.Split('\t')[0]));
        var errors = predict.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([$"coca: Input '{gone}' does not exist (expected image files or folders of them).",
            $"coca: Input '{goneFolder}' does not exist (expected image files or folders of them)."], errors);
    }

    [Fact]
    public void TrainFromShards_WithUnreadableInputs_SaysHowManyAreLeftOut()
    {
        var data = TwoClasses("shards-with-a-bad-image");
        var corrupt = Path.Combine(data, "circle", "corrupt.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var shards = Path.Combine(fx.Root, "shards-bad");
        for (int i = 0; i < 2; i++)
        {
            var featurize = CliProcess.Run("featurize", "--model", fx.ModelDir, "--data", data, "--format", "parquet", "--batch-size", "4", "--shard", $"{i}/2", "--out", shards);
            Assert.True(featurize.ExitCode == (i == 0 ? 1 : 0), featurize.StdOut + featurize.StdErr);   // the corrupt image is among the first 8: shard 0
        }
        var train = CliProcess.Run("train", "--model", fx.ModelDir, "--features", shards, "--out", Path.Combine(fx.Root, "bad-shards.zip"), "--epochs", "1");
        Assert.True(train.ExitCode == 0, train.StdErr);
        Assert.Equal("coca: warning: the shards leave out 1 input(s) that coca featurize could not read (it named them); training on the 12 rows they hold.", train.StdErr.Trim());
        Assert.Contains("Trained on 12 precomputed images of 2 classes", train.StdOut);
    }

    [Fact]
    public void Evaluate_UndecodableImage_IsOneLineNamingIt()
    {
        var data = TwoClasses("eval-bad");
        var truncated = Path.Combine(data, "square", "zz_truncated.png");
        var bytes = File.ReadAllBytes(fx.Images[0].Path);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 2 / 3)]);
        var run = CliProcess.Run("evaluate", "--model", fx.TrainedModel, "--data", data);
        AssertOneLineError(run, truncated);
        Assert.DoesNotContain("Splitter", run.StdErr);
    }

    [Fact]
    public void Train_OptionErrorsNameTheFlag_AndABadOutIsRefusedBeforeTraining()
    {
        string[] train = ["train", "--model", fx.ModelDir, "--data", fx.DataDir];
        var model = Path.Combine(fx.Root, "checked.zip");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
            (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
            (["--lr", "-0.001"], "--lr must be a positive number"),
            (["--queries", "0"], "--queries must be at least 1"),
            (["--heads", "0"], "--heads must be at least 1"),
            (["--validation-fraction", "1"], "--validation-fraction must be at least 0 and below 1"),
            (["--frames", "0"], "--frames must be at least 1"),
        })
        {
            var run = CliProcess.Run([.. train, "--out", model, .. args]);
            Assert.Equal(2, run.ExitCode);
            var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("coca: " + expected, line[..Math.Min(line.Length, 6 + expected.Length)]);
            Assert.DoesNotContain("AttentionalPoolerOptions", line);
        }

        // --out a folder, or in a folder that cannot be made: refused before the data is even read.
        var folder = CliProcess.Run([.. train, "--out", fx.Root]);
        AssertOneLineError(folder, "--out", exitCode: 2);
        Assert.Contains("is a folder", folder.StdErr);
        Assert.DoesNotContain("Training on", folder.StdOut);
        var aFile = Path.Combine(fx.Root, "not-a-folder");
        File.WriteAllText(aFile, "");
        var unwritable = CliProcess.Run([.. train, "--out", Path.Combine(aFile, "model.zip")]);
        AssertOneLineError(unwritable, "cannot be written", exitCode: 2);
        Assert.DoesNotContain("Training on", unwritable.StdOut);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void VideoFileAmongImages_IsRefusedByName_OrSkippedWithAWarning_ByTrainEvaluateAndPredict()
    {
        var data = TwoClasses("video-among-images");
        // Refused by its extension before any decode: the bytes need not be a real video.
        File.WriteAllBytes(Path.Combine(data, "circle", "good.mp4"), [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);
        var model = Path.Combine(fx.Root, "video-among-images.zip");
        string[] train = ["train", "--model", fx.ModelDir, "--data", data, "--out", model, "--epochs", "1", "--batch-size", "16"];
        var refused = CliProcess.Run(train);
        AssertOneLineError(refused, $"'{Path.Combine(data, "circle")}' holds 1 video file(s) among images: good.mp4");
        Assert.Contains("--video", refused.StdErr);
        Assert.Contains("--skip-unreadable", refused.StdErr);
        Assert.False(File.Exists(model));

        var skipped = CliProcess.Run([.. train, "--skip-unreadable"]);
        Assert.True(skipped.ExitCode == 0, skipped.StdErr);
        Assert.Contains("warning: skipping 1 video file(s)", skipped.StdErr);
        Assert.Contains("good.mp4", skipped.StdErr);
        Assert.Contains("Training on 12 images of 2 classes", skipped.StdOut);

        AssertOneLineError(CliProcess.Run("evaluate", "--model", fx.TrainedModel, "--data", data), "good.mp4");
        AssertOneLineError(CliProcess.Run("predict", "--model", fx.TrainedModel, Path.Combine(data, "circle")), "good.mp4");
        var predicted = CliProcess.Run("predict", "--model", fx.TrainedModel, Path.Combine(data, "circle"), "--skip-unreadable");
        Assert.True(predicted.ExitCode == 0, predicted.StdErr);
        Assert.Contains("good.mp4", predicted.StdErr);
        Assert.Equal(6, predicted.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void PredictAndEvaluate_WithAConvertedModelFolder_SayATrainedZipIsNeeded()
    {
        var predict = CliProcess.Run("predict", "--model", fx.ModelDir, fx.Images[0].Path);
        AssertOneLineError(predict, "converted CoCa model");
        Assert.Contains("needs a classifier file saved by coca train (MODEL.zip)", predict.StdErr);
        AssertOneLineError(CliProcess.Run("evaluate", "--model", fx.ModelDir, "--data", fx.DataDir), "coca evaluate needs a classifier file saved by coca train");
    }

    /// <summary>A folder-per-class copy of the fixture's circles and squares, <paramref name="name"/> under its root.</summary>
    private string TwoClasses(string name)
    {
        var data = Path.Combine(fx.Root, name);
        foreach (var (path, label) in fx.Images.Where(i => i.Label is "circle" or "square"))
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            File.Copy(path, Path.Combine(data, label, Path.GetFileName(path)), overwrite: true);
        }
        return data;
    }

    /// <summary>Exit code 1 (a failure while running) or 2 (a usage error, found at parse time), and one line saying <paramref name="expected"/>.</summary>
    private static void AssertOneLineError(CliProcess.Result result, string expected, int exitCode = 1)
    {
        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}: {result.StdErr}");
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("coca: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.Contains(expected, lines[0]);
    }
}

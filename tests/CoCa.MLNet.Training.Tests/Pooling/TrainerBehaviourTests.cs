using CoCa.MLNet.Training.Optimization;
using CoCa.MLNet.Training.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>Determinism, memory budget, progress reporting and clear errors of the trainer.</summary>
public class TrainerBehaviourTests
{
    private static readonly int[] Dims = [12, 16];

    private static IDataView Data(MLContext ml, int count = 120, int seed = 1) =>
        ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, SyntheticTokens.Needle(count, 12, 16, 3, seed), Dims))
            .Transform(SyntheticTokens.ToDataView(ml, SyntheticTokens.Needle(count, 12, 16, 3, seed), Dims));

    private static AttentionalPoolerOptions Small(int seed = 5) => new()
    {
        NumberOfEpochs = 3, BatchSize = 16, Seed = seed, Dropout = 0.2, LabelSmoothing = 0.1, NumberOfQueries = 2, NumberOfHeads = 2,
    };

    [Fact]
    public void SameSeedAndData_GiveBitIdenticalWeights_OtherSeedDoesNot()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var a = ml.MulticlassClassification.Trainers.AttentionalPooler(Small()).Train(data);
        var b = ml.MulticlassClassification.Trainers.AttentionalPooler(Small()).Train(data);
        var c = ml.MulticlassClassification.Trainers.AttentionalPooler(Small(seed: 6)).Train(data);
        foreach (var (name, values) in a.Weights.Tensors)
            Assert.True(values.AsSpan().SequenceEqual(b.Weights.Tensors[name]), $"weights '{name}' differ between two runs with the same seed");
        Assert.Equal(a.History.Select(h => h.TrainingLoss), b.History.Select(h => h.TrainingLoss));
        Assert.False(a.Weights.Tensors.All(t => t.Value.AsSpan().SequenceEqual(c.Weights.Tensors[t.Key])), "another seed gave the same weights");
    }

    [Fact]
    public void DataOverTheMemoryBudget_TrainsFromDisk_ToTheSameWeights()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var inMemory = ml.MulticlassClassification.Trainers.AttentionalPooler(Small()).Train(data);
        var options = Small();
        options.MemoryBudgetBytes = 10 * 12 * 16 * 2; // ten examples' worth of float16
        var onDisk = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(data);
        Assert.False(inMemory.FeaturesOnDisk);
        Assert.True(onDisk.FeaturesOnDisk);
        foreach (var (name, values) in inMemory.Weights.Tensors)
            Assert.True(values.AsSpan().SequenceEqual(onDisk.Weights.Tensors[name]), $"weights '{name}' differ between memory and disk feature stores");
    }

    [Fact]
    public void ProgressReachesTheCallbackAndTheMLContextLog()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.StartsWith("AttentionalPooler", StringComparison.Ordinal)) lock (log) log.Add(e.Message); };
        var reports = new List<AttentionalPoolerProgress>();
        var options = Small();
        options.Progress = new InlineProgress<AttentionalPoolerProgress>(reports.Add);
        ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(Data(ml));
        Assert.Equal([1, 2, 3], reports.Select(r => r.Epoch));
        Assert.All(reports, r =>
        {
            Assert.True(r.SamplesPerSecond > 0);
            Assert.InRange(r.TrainingAccuracy, 0, 1);
            Assert.NotNull(r.ValidationLoss);
        });
        Assert.Contains(log, m => m.Contains("epoch 3/3") && m.Contains("samples/s"));
    }

    [Fact]
    public void EarlyStopping_KeepsTheBestValidationEpoch()
    {
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.NumberOfEpochs = 30;
        options.LearningRate = 0.05;   // far too high: validation loss soon stops improving
        options.EarlyStoppingPatience = 2;
        options.WarmupSteps = 0;
        var result = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(Data(ml));
        Assert.True(result.History.Count < 30, $"ran all {result.History.Count} epochs");
        var best = result.History.Where(h => h.ValidationLoss is not null).MinBy(h => h.ValidationLoss!.Value)!;
        Assert.Equal(best.Epoch, result.BestEpoch);
        Assert.Equal(result.History.Count, result.BestEpoch + 2);
    }

    [Fact]
    public void SingleClass_IsAClearError()
    {
        var ml = new MLContext(seed: 1);
        var all = SyntheticTokens.Needle(20, 12, 16, 3, 1);
        var cats = all.Select(r => new TokenRow { Features = r.Features, Label = "cat" }).ToList();
        var trainer = ml.MulticlassClassification.Trainers.AttentionalPooler(Small());

        // A key of one value...
        var oneKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, cats, Dims)).Transform(SyntheticTokens.ToDataView(ml, cats, Dims));
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Fit(oneKey));
        Assert.Contains("a classifier needs at least two classes", e.Message);

        // ...or a key of three values of which the data holds one.
        var threeKeys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, all.Append(new TokenRow { Features = all[0].Features, Label = "cat" }), Dims));
        e = Assert.Throws<InvalidOperationException>(() => trainer.Fit(threeKeys.Transform(SyntheticTokens.ToDataView(ml, cats, Dims))));
        Assert.Contains("All 20 training rows have the same label ('cat')", e.Message);
    }

    [Fact]
    public void EmptyData_IsAClearError()
    {
        var ml = new MLContext(seed: 1);
        var some = SyntheticTokens.Needle(6, 12, 16, 3, 1);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, some, Dims));
        var empty = toKey.Transform(SyntheticTokens.ToDataView(ml, new List<TokenRow>(), Dims));
        var e = Assert.Throws<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(Small()).Fit(empty));
        Assert.Contains("no rows", e.Message);

        // The README's pipeline fitted on an empty IDataView: its MapValueToKey makes a key of one value from no rows,
        // which is not "a key with 1 value(s)" the user gave, but no data.
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.AttentionalPooler(Small()));
        e = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(SyntheticTokens.ToDataView(ml, new List<TokenRow>(), Dims)));
        Assert.Contains("no rows", e.Message);
    }

    [Fact]
    public void Cancellation_StopsFitAtTheNextStep_OrBeforeReadingTheFeatures()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        using var cts = new CancellationTokenSource();
        var epochs = 0;
        var options = Small();
        options.NumberOfEpochs = 50;
        options.Cancellation = cts.Token;
        options.Progress = new InlineProgress<AttentionalPoolerProgress>(_ => { epochs++; cts.Cancel(); });
        var e = Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(data));
        Assert.Equal(1, epochs);
        Assert.Contains("canceled", e.Message);
        Assert.Equal(cts.Token, e.CancellationToken);

        // Canceled already: no feature is read (a featurizer upstream would not run).
        var reads = 0;
        var counted = new CountingView(data, () => reads++);
        Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(counted));
        Assert.Equal(0, reads);
    }

    /// <summary>Counts the cursors that read the features column.</summary>
    private sealed class CountingView(IDataView inner, Action onFeatureCursor) : IDataView
    {
        public DataViewSchema Schema => inner.Schema;
        public bool CanShuffle => inner.CanShuffle;
        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var needed = columnsNeeded.ToList();
            if (needed.Any(c => c.Name == CoCaColumnNames.Tokens)) onFeatureCursor();
            return inner.GetRowCursor(needed, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }

    [Fact]
    public void NaNFeatures_AreAClearErrorNamingTheRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = SyntheticTokens.Needle(30, 12, 16, 3, 1);
        rows[17].Features[2 * 16 + 5] = float.NaN;
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, rows, Dims)).Transform(SyntheticTokens.ToDataView(ml, rows, Dims));
        var e = Assert.Throws<InvalidDataException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(Small()).Fit(data));
        Assert.Contains("row 17 (token 2, value 5) is NaN", e.Message);
    }

    [Fact]
    public void FeaturesOfTheWrongShapeOrType_AreClearErrors()
    {
        var ml = new MLContext(seed: 1);
        var rows = SyntheticTokens.Needle(30, 12, 16, 3, 1);
        var trainer = ml.MulticlassClassification.Trainers.AttentionalPooler(Small());
        var flat = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, rows, 12 * 16)).Transform(SyntheticTokens.ToDataView(ml, rows, 12 * 16));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(flat));
        Assert.Contains("Features column 'Tokens' is Vector<Single, 192> with 1 dimension(s); expected a float vector with dimensions [T, D]", e.Message);

        var textLabel = SyntheticTokens.ToDataView(ml, rows, Dims);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(textLabel));
        Assert.Contains("Label column 'Label' is String; expected a key type", e.Message);

        var missing = ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions { FeatureColumnName = "Patches" });
        e = Assert.Throws<ArgumentOutOfRangeException>(() => missing.Fit(flat));
        Assert.Contains("Features column 'Patches' not found", e.Message);
    }

    [Fact]
    public void CudaDevice_OnTheCpuBuild_IsAClearError()
    {
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.Device = "cuda:0";
        var e = Assert.Throws<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(Data(ml, 20)));
        Assert.Contains("TorchSharp-cuda-linux", e.Message);
        options.Device = "gpu";
        Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(Data(ml, 20)));
    }

    [Theory]
    [InlineData(1e9)]
    [InlineData(1e300)]   // beyond float32: libtorch refused it as a Scalar ("cannot be converted to type float without overflow")
    public void FarTooHighLearningRate_StopsAtTheFirstNonFiniteStep_WithOneLineNamingIt(double learningRate)
    {
        var ml = new MLContext(seed: 1);
        var reports = new List<AttentionalPoolerProgress>();
        var options = Small();
        options.LearningRate = learningRate;
        options.WarmupSteps = 0;
        options.Progress = new InlineProgress<AttentionalPoolerProgress>(reports.Add);
        var e = Assert.Throws<TrainingDivergedException>(() => ml.MulticlassClassification.Trainers.AttentionalPooler(options).Fit(Data(ml)));
        // 108 training rows in batches of 16: 7 steps an epoch. A learning rate this high breaks the weights at the first
        // update, so the second step's loss is the first that is not finite; the run stops there, in epoch 1.
        Assert.Equal(1, e.Epoch);
        Assert.Equal(2, e.Step);
        Assert.False(double.IsFinite(e.Loss) && e.GradientNorm is { } g && double.IsFinite(g), e.Message);
        Assert.InRange(e.LearningRate, 0.9 * learningRate, learningRate);   // the cosine schedule's second step
        Assert.Null(e.LastGoodCheckpoint);
        Assert.Empty(reports);   // no epoch ended, so none reported a NaN loss
        Assert.StartsWith("Training diverged at epoch 1, step 2: ", e.Message);
        Assert.Contains("The learning rate is likely too high", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ValidationSplit_NeverHoldsOutAClassesLastExample_AndIsUnchangedWhereNoClassIsAtRisk()
    {
        // Ten images of one class and one of another: a plain 10 % split held the single one out for some seeds, and
        // the pooler then never saw that class.
        int[] labels = [.. Enumerable.Repeat(0, 10), 1];
        for (int seed = 0; seed < 50; seed++)
        {
            var (train, validation) = AttentionalPoolerTrainer.Split(labels, 0.1, seed);
            Assert.Contains(10, train);
            Assert.Single(validation);
            Assert.Equal(Enumerable.Range(0, 11), train.Concat(validation).Order());
        }
        // Only single examples: nothing can be held out, so nothing is.
        Assert.Empty(AttentionalPoolerTrainer.Split([0, 1, 2], 0.5, seed: 3).Validation);
        // Where every class has examples to spare, the split is the plain one: the first rows of the seeded shuffle.
        int[] many = [.. Enumerable.Range(0, 40).Select(i => i % 4)];
        var order = Enumerable.Range(0, 40).ToArray();
        new Random(unchecked(7 * 31 + 17)).Shuffle(order);
        Assert.Equal(order[..4].Order(), AttentionalPoolerTrainer.Split(many, 0.1, seed: 7).Validation);
    }

    [Fact]
    public void TheConvenienceOverload_PlansAsTheOptionsClassDoes()
    {
        // The plan each trainer logs for the same data, read before its first step (then training is stopped).
        static string PlanOf(Func<MLContext, AttentionalPoolerTrainer> trainer)
        {
            var ml = new MLContext(seed: 1);
            string? plan = null;
            ml.Log += (_, e) =>
            {
                if (plan is null && e.RawMessage.StartsWith("Attentional pooler plan:", StringComparison.Ordinal))
                {
                    plan = e.RawMessage;
                    throw new OperationCanceledException("plan seen");
                }
            };
            Assert.ThrowsAny<OperationCanceledException>(() => trainer(ml).Fit(Data(ml, count: 400)));
            return plan ?? throw new Xunit.Sdk.XunitException("no plan was logged");
        }

        var simplest = PlanOf(ml => ml.MulticlassClassification.Trainers.AttentionalPooler());
        var options = PlanOf(ml => ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions()));
        Assert.Equal(options, simplest);
        // 360 training rows: a batch of 32 and 167 epochs for 2,000 steps, not the fixed 30 × 64 of before.
        Assert.Contains("batch 32, 12 steps per epoch, at most 167 epochs", simplest);
    }

    [Fact]
    public void BadOptions_AreRejectedUpFront()
    {
        var ml = new MLContext(seed: 1);
        var t = ml.MulticlassClassification.Trainers;
        Assert.Throws<ArgumentOutOfRangeException>(() => t.AttentionalPooler(new AttentionalPoolerOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.AttentionalPooler(new AttentionalPoolerOptions { ValidationFraction = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.AttentionalPooler(new AttentionalPoolerOptions { LearningRate = double.NaN }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.AttentionalPooler(new AttentionalPoolerOptions { NumberOfHeads = 5 }).Fit(Data(ml, 20)));
        Assert.Contains("must divide the token width D = 16", e.Message);

        // Two outputs of one name: the later hid the earlier, and Evaluate failed far away ("Schema mismatch for score column").
        var same = Assert.Throws<ArgumentException>(() => t.AttentionalPooler(new AttentionalPoolerOptions { ScoreColumnName = "Out", PredictedLabelColumnName = "Out" }));
        Assert.Contains("AttentionalPoolerOptions.ScoreColumnName and PredictedLabelColumnName are both 'Out'", same.Message);
    }
}

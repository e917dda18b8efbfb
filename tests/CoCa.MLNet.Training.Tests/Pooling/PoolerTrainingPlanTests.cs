using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>Training planned in optimizer steps: a small data set trains as long as a large one needs.</summary>
public class PoolerTrainingPlanTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(144)]
    [InlineData(1080)]
    [InlineData(100_000)]
    public void Defaults_GiveEnoughStepsAndABatchThatFits(int examples)
    {
        var plan = PoolerTrainingPlan.Create(examples);
        Assert.InRange(plan.BatchSize, 1, Math.Min(64, examples));
        Assert.Equal((examples + plan.BatchSize - 1) / plan.BatchSize, plan.BatchesPerEpoch);
        Assert.True(plan.TotalSteps >= Math.Min(PoolerTrainingPlan.MinimumSteps, PoolerTrainingPlan.MaximumEpochs * plan.BatchesPerEpoch), $"{examples} examples: {plan}");
        Assert.InRange(plan.Epochs, PoolerTrainingPlan.MinimumEpochs, PoolerTrainingPlan.MaximumEpochs);
        Assert.InRange(plan.WarmupSteps, 1, PoolerTrainingPlan.MaximumWarmupSteps);
        Assert.True(plan.EarlyStoppingPatience >= PoolerTrainingPlan.MinimumPatience);
    }

    [Fact]
    public void SmallSet_GetsSmallBatchesAndMoreEpochs_LargeSetTheOldDefaults()
    {
        var small = PoolerTrainingPlan.Create(144);
        Assert.Equal(8, small.BatchSize);
        Assert.Equal(18, small.BatchesPerEpoch);
        Assert.Equal(112, small.Epochs);              // ⌈2000 / 18⌉
        Assert.Equal(201, small.WarmupSteps);         // a tenth of 18 × 112 = 2016 steps
        Assert.Equal(23, small.EarlyStoppingPatience); // a fifth of the planned epochs
        var large = PoolerTrainingPlan.Create(100_000);
        Assert.Equal((64, 30, 10, 500), (large.BatchSize, large.Epochs, large.EarlyStoppingPatience, large.WarmupSteps));
    }

    [Fact]
    public void GivenValues_ReplaceThePlannedOnes_EpochsAsTheMaximum()
    {
        var plan = PoolerTrainingPlan.Create(144, batchSize: 32, epochs: 300, warmupSteps: 7, patience: 0);
        Assert.Equal((32, 5, 300, 1500, 7, 0), (plan.BatchSize, plan.BatchesPerEpoch, plan.Epochs, plan.TotalSteps, plan.WarmupSteps, plan.EarlyStoppingPatience));
        Assert.Equal(10, PoolerTrainingPlan.Create(10, batchSize: 64).BatchSize);   // never more than the examples
    }
}

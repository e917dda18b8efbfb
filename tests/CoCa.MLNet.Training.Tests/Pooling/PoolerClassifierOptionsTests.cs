using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Pooling;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>The classifiers' shared options (<see cref="PoolerClassifierOptions"/>) are checked alike, each error naming the user's options class.</summary>
public class PoolerClassifierOptionsTests
{
    public static TheoryData<string, Action<PoolerClassifierOptions>> WrongValues => new()
    {
        { "EarlyStoppingMinDelta", o => o.EarlyStoppingMinDelta = -1e-3 },
        { "EarlyStoppingMinDelta", o => o.EarlyStoppingMinDelta = double.NaN },
        { "Dropout", o => o.Dropout = double.NaN },
        { "WeightDecay", o => o.WeightDecay = double.PositiveInfinity },
        { "LearningRate", o => o.LearningRate = 0 },
        { "NumberOfQueries", o => o.NumberOfQueries = 0 },
        { "MemoryBudgetBytes", o => o.MemoryBudgetBytes = -1 },
    };

    [Theory]
    [MemberData(nameof(WrongValues))]
    public void AWrongSharedValue_IsRefusedByBothClassifiers_NamingTheirOptionsClass(string option, Action<PoolerClassifierOptions> spoil)
    {
        var frozen = new AttentionalPoolerOptions();
        spoil(frozen);
        var e = Assert.Throws<ArgumentOutOfRangeException>(frozen.Validate);
        Assert.StartsWith($"AttentionalPoolerOptions.{option}:", e.Message, StringComparison.Ordinal);

        var fineTuned = new FineTunedCoCaOptions { Checkpoint = "checkpoint" };
        spoil(fineTuned);
        e = Assert.Throws<ArgumentOutOfRangeException>(fineTuned.Validate);
        Assert.StartsWith($"FineTunedCoCaOptions.{option}:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaults_PassTheChecks()
    {
        new AttentionalPoolerOptions().Validate();
        new FineTunedCoCaOptions { Checkpoint = "checkpoint" }.Validate();
    }
}

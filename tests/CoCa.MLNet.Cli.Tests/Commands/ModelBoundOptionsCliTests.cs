using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// Option values that only the model shows to be wrong (--heads, --trainable-blocks, --beams) are usage errors in the
/// CLI's words: one line naming the option as typed, the value and the limit, exit code 2, nothing written; and no
/// .NET argument-exception suffix ("(Parameter 'Options')") reaches the user.
/// </summary>
public sealed class ModelBoundOptionsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-cli-model-bound-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FixtureFact]
    public void Train_HeadsNotDividingTheWidth_AndMoreTrainableBlocksThanTheTower_AreUsageErrorsNamingTheOption()
    {
        var data = Path.Combine(_dir, "data");
        SyntheticImageDataset.Generate(data, classCount: 2, perClass: 2, width: 64, height: 64, seed: 1);
        var model = Path.Combine(_dir, "classifier.zip");

        var heads = CliProcess.Run("train", "--model", TinyModel.Directory, "--data", data, "--heads", "3", "--out", model);
        AssertUsageError(heads, $"coca: --heads 3 must divide the token width 64 of model '{TinyModel.Directory}' (try 1, 2, 4, 8, 16, 32, ...).");

        var blocks = CliProcess.Run("train", "--checkpoint", Fixtures.TinyCoCa, "--data", data, "--trainable-blocks", "99", "--out", model);
        AssertUsageError(blocks, $"coca: --trainable-blocks 99 is more than the 2 blocks of the vision tower of checkpoint '{Fixtures.TinyCoCa}' (give 0 to 2, or all).");
        Assert.False(File.Exists(model));
    }

    [CaptionFixtureFact]
    public void Caption_MoreBeamsThanTheVocabulary_IsAUsageErrorNamingTheLimit()
    {
        var model = Path.Combine(_dir, "model");
        var convert = CliProcess.Run("convert", CaptionFixture.Folder, "--out", model);
        Assert.True(convert.ExitCode == 0, convert.StdErr);
        var run = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--beams", "100000", CaptionFixture.File("images"));
        AssertUsageError(run, $"coca: --beams 100000 is more than the 49408 tokens of the vocabulary of model '{model}' (give at most 49408).");
    }

    [Fact]
    public void ArgumentExceptions_AreShownWithoutTheParameterNameAndActualValueDotNetAppends()
    {
        Assert.Equal("The heads must divide the width.", CliRunner.Describe(new ArgumentOutOfRangeException("Options", 3, "The heads must divide the width.")));
        Assert.Equal("The folder is empty.", CliRunner.Describe(new ArgumentException("The folder is empty.", "root")));
        Assert.Equal("Value does not fall within the expected range.", CliRunner.Describe(new ArgumentException()));
    }

    private static void AssertUsageError(CliProcess.Result run, string expected)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.StdErr}");
        Assert.Equal(expected, run.StdErr.Trim());
    }
}

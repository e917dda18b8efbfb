using System.CommandLine;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>Every subcommand of <c>coca</c>; each lives in its own file with a static Create().</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        ConvertCommand.Create(),
        FeaturizeCommand.Create(),
        TokenizeCommand.Create(),
        EmbedTextCommand.Create(),
        TrainCommand.Create(),
        EvaluateCommand.Create(),
        PredictCommand.Create(),
        CaptionCommand.Create(),
        FinetuneCommand.Create(),
        EvaluatePairsCommand.Create(),
        EvaluateCaptionsCommand.Create(),
    ];

    /// <summary>The <c>coca</c> command with every subcommand.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("coca: open_clip CoCa for .NET — convert checkpoints, featurize images and videos, train and evaluate attentional poolers.");
        foreach (var command in All())
            root.Subcommands.Add(command);
        return root;
    }
}

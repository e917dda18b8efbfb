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
}

using System.CommandLine;
using CoCa.MLNet.Cli;
using CoCa.MLNet.Cli.Commands;

var root = new RootCommand("coca: open_clip CoCa for .NET — convert checkpoints, featurize images and videos, train and evaluate attentional poolers.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return CliRunner.Run(root, args);

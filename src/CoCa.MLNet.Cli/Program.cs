using CoCa.MLNet.Cli;
using CoCa.MLNet.Cli.Commands;

return CliRunner.Run(CommandCatalog.Root(), args);

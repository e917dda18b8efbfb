namespace CoCa.MLNet.Cli;

/// <summary>
/// An option value that only the model shows to be wrong (more --beams than its vocabulary, --heads that do not divide
/// its token width): a usage error, exit code 2 as the parse-time checks, found once the model's description is read
/// and before any work. The message names the option as typed, the value and the limit.
/// </summary>
internal sealed class OptionValueException(string message) : Exception(message);

using System.CommandLine;

namespace CoCa.MLNet.Cli;

/// <summary>Runs the command line: bad input ends with one clear line on stderr and a non-zero exit code.</summary>
internal static class CliRunner
{
    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"coca: {error.Message}");
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"coca: {Describe(e)}");
            if (Environment.GetEnvironmentVariable("COCA_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }

    /// <summary>
    /// The innermost meaningful message (type initializer, aggregate and ML.NET's splitter/consolidator wrappers say
    /// nothing to a user).
    /// </summary>
    internal static string Describe(Exception e) => CoCa.MLNet.MLNet.InputErrors.Unwrap(e).Message.ReplaceLineEndings(" ");
}

namespace CoCa.MLNet.Samples;

/// <summary>
/// A notebook's settings cell (<c>checkpoint</c>, <c>dataFolder</c>, …) used where it is read: a value that cannot be
/// used fails as one line naming the setting, its value and what was expected, not as a stack trace.
/// </summary>
public static class NotebookSettings
{
    /// <summary>
    /// Runs <paramref name="use"/>, which reads the setting <paramref name="setting"/>; an input error (missing or wrong
    /// file or folder, unreadable checkpoint, …) becomes a <see cref="NotebookSettingException"/> prefixed with the
    /// setting's name. Other exceptions (bugs) pass unchanged, with their stack traces.
    /// </summary>
    public static T Check<T>(string setting, Func<T> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        try
        {
            return use();
        }
        catch (Exception e) when (e is not NotebookSettingException && InputErrors.IsInputError(e))
        {
            throw new NotebookSettingException($"{setting}: {InputErrors.Describe(e)}", e);
        }
    }

    /// <summary>
    /// <paramref name="path"/>, the value of the setting <paramref name="setting"/>, when that file or folder exists;
    /// otherwise one line saying it is not set or does not exist, and <paramref name="expected"/>.
    /// </summary>
    public static string ExistingPath(string setting, string? path, string expected) =>
        path is null ? throw new NotebookSettingException($"{setting} is not set; expected {expected}.")
        : File.Exists(path) || Directory.Exists(path) ? path
        : throw new NotebookSettingException($"{setting}: '{path}' does not exist; expected {expected}.");
}

/// <summary>
/// A notebook setting that cannot be used. The .NET Interactive kernel shows a failed C# cell as the exception's
/// <see cref="ToString"/> (CommandFailed's message) and the lines of its <see cref="StackTrace"/> (dotnet-repl's and Jupyter's
/// traceback); no formatter or kernel extension can change that. A wrong setting is the user's input, not a bug, so this one
/// shows its message alone (the failure it wraps stays in <see cref="Exception.InnerException"/>).
/// </summary>
public sealed class NotebookSettingException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>Empty, not null: the kernel's Jupyter front end splits it into traceback lines without a null check.</summary>
    public override string StackTrace => "";

    public override string ToString() => Message;
}

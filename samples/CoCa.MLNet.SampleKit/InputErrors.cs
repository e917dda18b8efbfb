using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Samples;

/// <summary>
/// The errors that mean "this input (option, setting, file) cannot be used", as opposed to a bug: each names the input
/// and what was expected in its message, so a walkthrough shows that one line and no stack trace.
/// </summary>
internal static class InputErrors
{
    public static bool IsInputError(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException
            or CheckpointException or CoCaConfigException or VideoDecodingException or ImageTooLargeException;

    /// <summary>The message to show: ours, where an ML.NET worker thread wrapped our error in its own.</summary>
    public static string Describe(Exception e) =>
        e.GetBaseException() is var inner && inner != e && IsInputError(inner) && inner is not InvalidOperationException ? inner.Message : e.Message;
}

using System.Runtime.ExceptionServices;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// The error a user should see when scoring fails on an input: the featurizer's own message naming the file and what
/// was expected, not the wrappers it travels in (a parallel decode's <see cref="AggregateException"/>, ML.NET's
/// "Splitter/consolidator worker encountered exception while consuming source data" when a downstream ML.NET transform
/// reads our rows on worker threads, reflection's <see cref="System.Reflection.TargetInvocationException"/>).
/// </summary>
internal static class InputErrors
{
    /// <summary>The exact text of ML.NET's splitter/consolidator wrapper (Microsoft.ML.Data's DataViewUtils).</summary>
    internal const string MLNetWorkerWrapper = "Splitter/consolidator worker encountered exception";

    /// <summary>
    /// The innermost meaningful exception of <paramref name="e"/>; of several inputs failing in one parallel batch, the
    /// first (a batch stops at its first bad input either way).
    /// </summary>
    public static Exception Unwrap(Exception e)
    {
        while (e.InnerException is { } inner && IsWrapper(e))
            e = e is AggregateException a ? a.Flatten().InnerExceptions[0] : inner;
        return e;
    }

    private static bool IsWrapper(Exception e) => e switch
    {
        AggregateException => true,
        TypeInitializationException or System.Reflection.TargetInvocationException => true,
        InvalidOperationException when e.Message.StartsWith(MLNetWorkerWrapper, StringComparison.Ordinal) => true,
        _ => false,
    };

    /// <summary>Rethrows the meaningful exception of <paramref name="e"/> (keeping its stack trace) when it is wrapped.</summary>
    public static void RethrowUnwrapped(Exception e)
    {
        var inner = Unwrap(e);
        if (!ReferenceEquals(inner, e)) ExceptionDispatchInfo.Throw(inner);
    }

    /// <summary>Whether <paramref name="e"/> says an input (image, video, frame folder) cannot be read, rather than a failure of the model or machine.</summary>
    public static bool IsBadInput(Exception e)
    {
        var inner = Unwrap(e);
        return !Runtime.FiniteOutputs.IsNonFiniteOutput(inner)
            && inner is InvalidDataException or Video.VideoDecodingException or FileNotFoundException or DirectoryNotFoundException
                or Preprocessing.ImageTooLargeException;
    }
}

using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace CoCa.MLNet.Runtime;

/// <summary>
/// Runs a lazy sequence ahead of its consumer on a background thread, through a bounded queue: while the consumer
/// works on item k (e.g. ONNX Runtime encodes a batch), items k+1.. are produced (e.g. decoded and preprocessed).
/// Order is kept; at most <c>capacity</c> finished items wait, plus the one being produced and the one consumed;
/// an exception in the producer surfaces to the consumer at the position where it happened; disposing the
/// enumerator early stops the producer after its current item.
/// </summary>
internal static class Prefetch
{
    public static IEnumerable<T> Ahead<T>(IEnumerable<T> source, int capacity = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Capacity must be at least 1.");
        return Iterate(source, capacity);
    }

    private static IEnumerable<T> Iterate<T>(IEnumerable<T> source, int capacity)
    {
        using var queue = new BlockingCollection<T>(capacity);
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? error = null;
        var producer = new Thread(() =>
        {
            try
            {
                foreach (var item in source)
                {
                    if (stop.IsCancellationRequested) { Release(item); break; }
                    try { queue.Add(item, stop.Token); }
                    catch (OperationCanceledException) { Release(item); break; }
                }
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                queue.CompleteAdding();
            }
        })
        { IsBackground = true, Name = "CoCa prefetch" };
        producer.Start();
        try
        {
            foreach (var item in queue.GetConsumingEnumerable())
                yield return item;
            producer.Join();
            error?.Throw();
        }
        finally
        {
            stop.Cancel();
            producer.Join();
            while (queue.TryTake(out var left)) Release(left);
        }
    }

    private static void Release<T>(T item)
    {
        if (item is IDisposable d) d.Dispose();
    }
}

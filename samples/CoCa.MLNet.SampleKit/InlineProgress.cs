namespace CoCa.MLNet.Samples;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its action inline, on the reporting thread, as each report arrives: in
/// order and on time. (<see cref="Progress{T}"/> posts each report to the captured synchronization context or the
/// thread pool, so console lines can arrive late and out of order.)
/// </summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

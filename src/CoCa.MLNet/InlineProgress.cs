namespace CoCa.MLNet;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs <c>report</c> inline, on the thread that reports, as each report arrives: in
/// order and on time. CoCa.MLNet's trainers (<c>AttentionalPoolerOptions.Progress</c>, <c>CoCaFineTuneOptions.Progress</c>)
/// report synchronously on the training thread, so with this a console line, a list or a chart is up to date when
/// the next epoch starts. (<see cref="Progress{T}"/> instead posts each report to the captured synchronization context
/// or the thread pool: in a console app its lines arrive late and can arrive out of order.)
/// </summary>
/// <example><code>
/// Progress = new InlineProgress&lt;AttentionalPoolerProgress&gt;(p =&gt; Console.WriteLine(p)),
/// </code></example>
public sealed class InlineProgress<T> : IProgress<T>
{
    private readonly Action<T> _report;

    public InlineProgress(Action<T> report) => _report = report ?? throw new ArgumentNullException(nameof(report));

    /// <summary>Runs the action now, on the calling thread; an exception it throws reaches the reporter.</summary>
    public void Report(T value) => _report(value);
}

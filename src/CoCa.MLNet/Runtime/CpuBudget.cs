namespace CoCa.MLNet.Runtime;

/// <summary>
/// The cores this process may use, and how our work shares them: ONNX Runtime's intra-op threads take the cores,
/// and preprocessing that overlaps a running session takes what they leave (at least one thread).
/// </summary>
internal static class CpuBudget
{
    /// <summary>
    /// Cores available to this process: <see cref="Environment.ProcessorCount"/>, which on Linux counts the CPUs of
    /// the process's affinity mask (sched_getaffinity, e.g. <c>taskset</c>) and is capped by a container's cgroup CPU
    /// quota (rounded up); <c>DOTNET_PROCESSOR_COUNT</c> overrides it.
    /// </summary>
    public static int AvailableCores => Environment.ProcessorCount;

    /// <summary>Threads for preprocessing that runs while a session with <paramref name="onnxThreads"/> intra-op threads works.</summary>
    public static int OverlappingThreads(int onnxThreads) => Math.Max(1, AvailableCores - onnxThreads);
}

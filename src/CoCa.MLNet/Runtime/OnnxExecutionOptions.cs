using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace CoCa.MLNet.Runtime;

/// <summary>How ONNX Runtime runs our models: threads, and the device.</summary>
public sealed record OnnxExecutionOptions
{
    /// <summary>
    /// Threads inside one operator. 0 (the default): one per core available to this process
    /// (<see cref="CpuBudget.AvailableCores"/>: CPU affinity and container CPU limits respected), resolved when the
    /// session is created. ONNX Runtime's own default would run one thread on small VMs.
    /// </summary>
    public int IntraOpNumThreads { get => _intraOp; init => _intraOp = Threads(value, nameof(IntraOpNumThreads)); }

    private readonly int _intraOp;
    private readonly int _interOp;

    /// <summary>The most threads taken: more than any machine's cores would only slow ONNX Runtime down (10,000 took minutes for six images).</summary>
    internal const int MaxThreads = 1024;

    private static int Threads(int value, string name) => value is >= 0 and <= MaxThreads ? value :
        throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; expected 0 (one thread per core) or a thread count up to {MaxThreads}.");

    /// <summary>The intra-op thread count a session made from these options uses.</summary>
    public int ResolvedIntraOpNumThreads => IntraOpNumThreads > 0 ? IntraOpNumThreads : CpuBudget.AvailableCores;

    /// <summary>Threads across independent operators (0: default).</summary>
    public int InterOpNumThreads { get => _interOp; init => _interOp = Threads(value, nameof(InterOpNumThreads)); }

    /// <summary>
    /// Where to run: "cpu" (the default), "cuda" or "cuda:N" (<see cref="ComputeDevice"/>, the same names as the
    /// trainers' <c>Device</c> and the CLI's <c>--device</c>). CUDA needs the Microsoft.ML.OnnxRuntime.Gpu package in the
    /// application instead of Microsoft.ML.OnnxRuntime (and CUDA/cuDNN on the machine). Checked when set: another
    /// name throws <see cref="ArgumentException"/>.
    /// </summary>
    public string Device
    {
        get => _device.ToString();
        init => _device = ComputeDevice.Parse(value);
    }

    private readonly ComputeDevice _device;

    /// <summary><see cref="Device"/>, parsed.</summary>
    [JsonIgnore]
    public ComputeDevice ComputeDevice => _device;

    /// <summary>With a CUDA <see cref="Device"/>: run on the CPU when CUDA cannot be used, instead of failing.</summary>
    public bool FallbackToCpu { get; init; } = true;

    /// <summary>
    /// With a CUDA <see cref="Device"/>: let matrix products use TensorFloat-32 (10-bit mantissa inputs; faster on
    /// Ampere and later, about 1e-3 relative error). Off by default, unlike ONNX Runtime's CUDA provider, so that CUDA
    /// gives open_clip's fp32 numbers as PyTorch computes them by default (<c>torch.backends.cuda.matmul.allow_tf32 = False</c>).
    /// </summary>
    public bool AllowTf32 { get; init; }

    /// <summary>Reads models saved before <see cref="Device"/> existed, which stored <c>gpu_device_id</c> (null: CPU).</summary>
    [JsonInclude, JsonPropertyName("gpu_device_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private int? LegacyGpuDeviceId
    {
        get => null;
        init { if (value is int id) _device = ComputeDevice.Cuda(id); }
    }
}

/// <summary>Creates ONNX Runtime sessions from <see cref="OnnxExecutionOptions"/>.</summary>
internal static class OnnxSessions
{
    public static InferenceSession Create(byte[] model, OnnxExecutionOptions? options, string what) => Create(model, options, what, out _);

    /// <summary>Creates a session; <paramref name="onGpu"/> tells whether it runs on CUDA (false after a fallback to the CPU).</summary>
    internal static InferenceSession Create(byte[] model, OnnxExecutionOptions? options, string what, out bool onGpu)
    {
        options ??= new OnnxExecutionOptions();
        SessionOptions? so = null;
        try
        {
            so = CreateSessionOptions(options, what, out onGpu);
            return new InferenceSession(model, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load {what}: {e.Message}", e);
        }
        catch (TypeInitializationException e) when (e.InnerException is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // The application references only the API (as the libraries do), not a native package: otherwise "The type
            // initializer for 'Microsoft.ML.OnnxRuntime.NativeMethods' threw an exception" around a dozen probed paths.
            throw new PlatformNotSupportedException(
                $"Cannot run {what}: ONNX Runtime's native library cannot be loaded. Reference the Microsoft.ML.OnnxRuntime package (CPU) " +
                "or Microsoft.ML.OnnxRuntime.Gpu (CUDA) in the application: CoCa.MLNet references only its API, Microsoft.ML.OnnxRuntime.Managed. " +
                $"({e.InnerException.GetType().Name}: {e.InnerException.Message.ReplaceLineEndings(" ").Split(". ")[0]}.)", e);
        }
        finally
        {
            so?.Dispose();
        }
    }

    /// <summary>
    /// The error for a model used after it was disposed: its ONNX Runtime session is closed, and running it reads freed
    /// memory (an error at best, the process killed at worst). The usual cause is ML.NET's PredictionEngine, which disposes
    /// the model it was made from when it is disposed.
    /// </summary>
    internal static ObjectDisposedException Disposed(string what) => new(
        $"{what} was disposed, so it cannot score any more. A PredictionEngine disposes the model it was created from when it " +
        "is disposed: create it with new PredictionEngineOptions { OwnsTransformer = false } to keep using the model, or dispose the model last.",
        innerException: null);

    /// <summary>
    /// Where a session's outputs should live when it runs on CUDA device <paramref name="device"/> (null on the CPU):
    /// on the device (inputs of the next run: no trip through the host) or in pinned host memory (read by .NET: one
    /// direct copy, no pageable staging).
    /// </summary>
    internal static OrtMemoryInfo? CudaMemory(int? device, bool pinnedHost) => device is int d
        ? new OrtMemoryInfo(pinnedHost ? OrtMemoryInfo.allocatorCUDA_PINNED : OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, d,
            pinnedHost ? OrtMemType.CpuOutput : OrtMemType.Default)
        : null;

    /// <summary>Whether the CUDA execution provider is present in the loaded ONNX Runtime.</summary>
    public static bool CudaAvailable => OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");

    internal static SessionOptions CreateSessionOptions(OnnxExecutionOptions options, string what) => CreateSessionOptions(options, what, out _);

    private static SessionOptions CreateCudaSessionOptions(int device, bool allowTf32)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>
        {
            ["device_id"] = device.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["use_tf32"] = allowTf32 ? "1" : "0",
        });
        return SessionOptions.MakeSessionOptionWithCudaProvider(cuda);
    }

    private static SessionOptions CreateSessionOptions(OnnxExecutionOptions options, string what, out bool onGpu)
    {
        SessionOptions so;
        onGpu = false;
        if (options.ComputeDevice.CudaIndex is int device)
        {
            try
            {
                so = CreateCudaSessionOptions(device, options.AllowTf32);
                onGpu = true;
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                if (!options.FallbackToCpu)
                    throw new InvalidOperationException(
                        $"Cannot run {what} on CUDA device {device}: {e.Message} Reference Microsoft.ML.OnnxRuntime.Gpu (instead of Microsoft.ML.OnnxRuntime) and install CUDA, or set FallbackToCpu.", e);
                so = new SessionOptions();
            }
        }
        else
        {
            so = new SessionOptions();
        }
        so.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        // ONNX Runtime's warnings on CUDA ("some nodes were not assigned to the preferred execution providers": shape
        // ops it places on the CPU itself) would print at every session; errors still come through as exceptions.
        so.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
        so.IntraOpNumThreads = options.ResolvedIntraOpNumThreads;
        if (options.InterOpNumThreads > 0) so.InterOpNumThreads = options.InterOpNumThreads;
        return so;
    }
}

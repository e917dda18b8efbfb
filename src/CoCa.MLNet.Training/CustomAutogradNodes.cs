using static TorchSharp.torch;

namespace CoCa.MLNet.Training;

/// <summary>
/// What the project's TorchSharp autograd nodes share (<see cref="ActivationCheckpoint"/>, <see cref="BFloat16Linear"/>,
/// <see cref="FineTuning.VocabularyCrossEntropy"/>): keeping the gradients a backward pass returns alive until libtorch has
/// them, and the marker for an absent (null) tensor argument.
/// </summary>
internal static class CustomAutogradNodes
{
    // Gradients handed to libtorch must stay referenced until it has copied them, right after backward returns.
    [ThreadStatic] private static List<Tensor>? t_handedOver;

    /// <summary>
    /// Keeps the gradients a node's backward pass returns referenced until libtorch has copied them: until the next
    /// such backward pass on the thread, or <see cref="Release"/>.
    /// </summary>
    public static void HandOver(List<Tensor> gradients)
    {
        Release();
        t_handedOver = gradients;
    }

    /// <summary>
    /// Frees the gradients the last custom backward pass on this thread handed to libtorch (which holds its own references
    /// by then). The trainers call it after each backward pass; otherwise the next custom backward pass on the thread does.
    /// </summary>
    public static void Release()
    {
        var handedOver = t_handedOver;
        t_handedOver = null;
        handedOver?.ForEach(t => t.Dispose());
    }

    /// <summary>Stands for a null tensor argument of a node (a non-tensor argument, which gets no gradient).</summary>
    public sealed class Absent
    {
        public static readonly Absent Value = new();
    }
}

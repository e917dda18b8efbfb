using TorchSharp;

namespace CoCa.MLNet.Training;

/// <summary>
/// TorchSharp <see cref="Scalar"/>s that live as long as the process, for libtorch calls on hot paths.
/// </summary>
/// <remarks>
/// A Scalar made implicitly from a number (<c>x * 0.5</c>, <c>t.mul_(beta)</c>, and inside TorchSharp
/// <c>a + b</c> = <c>a.add(b, alpha: 1)</c>) is a temporary whose last managed use is the read of its handle: the
/// finalizer may free it while libtorch still reads it, a crash that depends on garbage-collection timing. Code here
/// passes either one of these rooted Scalars or a Scalar it created itself and disposes after the call
/// (<c>using var s = value.ToScalar();</c>); <c>ImplicitScalarScanTests</c> checks the whole assembly.
/// </remarks>
internal static class TorchScalars
{
    /// <summary>The integer 1, as TorchSharp's own <c>a + b</c> passes it: the alpha of tensor additions.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> (broadcasting), as <c>a + b</c> but with a rooted alpha.</summary>
    public static torch.Tensor Add(torch.Tensor a, torch.Tensor b) => a.add(b, One);
}

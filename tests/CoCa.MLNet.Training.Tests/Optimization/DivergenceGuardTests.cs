using CoCa.MLNet.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;

namespace CoCa.MLNet.Training.Tests.Optimization;

/// <summary>The trainers' gradient-norm reading and clipping.</summary>
public class DivergenceGuardTests
{
    [Theory]
    [InlineData(1.0, true)]
    [InlineData(1e300, false)]   // beyond float32 (--grad-clip 1e300): clips nothing; libtorch refused it as a Scalar
    public void ClipNorm_MeasuresTheNorm_AndClipsOnlyAboveIt(double clipNorm, bool clipped)
    {
        var p = new Parameter(torch.zeros(4)) { grad = torch.tensor(new float[] { 3, 4, 0, 0 }) };
        double norm = DivergenceGuard.ReadGradientNormAndClip([p], clipNorm, p.device);
        Assert.Equal(5.0, norm, 5);
        Assert.Equal(clipped ? 1.0 : 5.0, p.grad!.norm().item<float>(), 4);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>The three losses of one batch as numbers.</summary>
internal readonly record struct LossValues(double Contrastive, double Caption, double Total)
{
    /// <summary>Reads the three in one transfer from the device.</summary>
    public static LossValues Read(CoCaLoss loss)
    {
        using var scope = NewDisposeScope();
        var v = torch.stack([loss.Contrastive.detach(), loss.Caption.detach(), loss.Total.detach()]).cpu().data<float>().ToArray();
        return new LossValues(v[0], v[1], v[2]);
    }
}

/// <summary>Running means of the three losses.</summary>
internal sealed class LossWindow
{
    private double _c, _p, _t;
    private int _n;

    public void Add(LossValues loss)
    {
        _c += loss.Contrastive;
        _p += loss.Caption;
        _t += loss.Total;
        _n++;
    }

    public (double Contrastive, double Caption, double Total) Mean() =>
        _n == 0 ? (double.NaN, double.NaN, double.NaN) : (_c / _n, _p / _n, _t / _n);
}

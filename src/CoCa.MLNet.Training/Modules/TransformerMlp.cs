using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's block MLP <c>mlp</c>: <c>c_fc</c> (Linear w→mlpWidth), exact (erf) GELU, <c>c_proj</c> (Linear mlpWidth→w).
/// CoCa configs leave <c>quick_gelu</c> unset, so the GELU is torch's default erf form, not the tanh/sigmoid approximations.
/// </summary>
internal sealed class TransformerMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;

    public TransformerMlp(int width, int mlpWidth) : base(nameof(TransformerMlp))
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "MLP width must be positive.");
        if (mlpWidth <= 0) throw new ArgumentOutOfRangeException(nameof(mlpWidth), mlpWidth, "MLP hidden width must be positive.");
        c_fc = nn.Linear(width, mlpWidth);
        c_proj = nn.Linear(mlpWidth, width);
        RegisterComponents();
    }

    /// <param name="x">[..., w]</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = nn.functional.gelu(MixedPrecision.Linear(c_fc, x));
        return scope.MoveToOuter(MixedPrecision.Linear(c_proj, hidden));
    }
}

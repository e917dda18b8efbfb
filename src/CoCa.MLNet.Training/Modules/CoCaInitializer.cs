using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>
/// open_clip's initialisation of a fresh CoCa (what <c>create_model(..., pretrained=None)</c> gives), drawn from
/// torch's generator seeded with <c>seed</c>: the vision tower keeps PyTorch's module defaults (Linear/Conv2d
/// kaiming-uniform, MultiheadAttention xavier-uniform with zero in-projection and out-projection biases, LayerNorm 1/0)
/// except <c>class_embedding</c> and <c>positional_embedding</c> ~ N(0, width^-½), <c>proj</c> ~ N(0, width^-½) and the
/// pooler queries ~ N(0, 1); the text tower and the multimodal decoder follow their <c>init_parameters</c>:
/// token embedding N(0, 0.02), positions and cls N(0, 0.01), in_proj N(0, w^-½), out_proj and c_proj
/// N(0, w^-½·(2·layers)^-½), c_fc N(0, (2w)^-½), projections N(0, w^-½); <c>logit_scale</c> = ln(1/0.07).
/// </summary>
internal static class CoCaInitializer
{
    public static void Initialize(CoCaModel model, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        using var generator = new Generator((ulong)seed);
        using var _ = torch.no_grad();
        foreach (var (name, p) in model.named_parameters().OrderBy(p => p.name, StringComparer.Ordinal))
        {
            if (name.StartsWith("visual.", StringComparison.Ordinal)) InitVision(name["visual.".Length..], p, c.Vision.Width, c.Vision.MlpWidth, generator);
            else if (name.StartsWith("text.", StringComparison.Ordinal)) InitText(name["text.".Length..], p, c.Text.Width, c.Text.MlpWidth, c.Text.Layers, generator);
            else if (name.StartsWith("text_decoder.", StringComparison.Ordinal)) InitText(name["text_decoder.".Length..], p, c.Multimodal.Width, 4 * c.Multimodal.Width, c.Multimodal.Layers, generator);
            else if (name == "logit_scale") { using var initialScale = Math.Log(1 / 0.07).ToScalar(); p.fill_(initialScale); }
            else throw new InvalidOperationException($"No initialiser for '{name}'.");
        }
    }

    private static void InitVision(string name, Tensor p, int width, int mlpWidth, Generator g)
    {
        double scale = Math.Pow(width, -0.5);
        if (IsNorm(name)) { Norm(name, p); return; }
        switch (name)
        {
            case "class_embedding" or "positional_embedding" or "proj": p.normal_(0, scale, g); return;
            case "attn_pool.query": p.normal_(0, 1, g); return;
        }
        if (name.EndsWith("in_proj_weight", StringComparison.Ordinal) || name.EndsWith("q_proj_weight", StringComparison.Ordinal)
            || name.EndsWith("k_proj_weight", StringComparison.Ordinal) || name.EndsWith("v_proj_weight", StringComparison.Ordinal))
        {
            XavierUniform(p, name.EndsWith("in_proj_weight", StringComparison.Ordinal) ? p.shape[0] / 3 : p.shape[0], p.shape[1], g);
            return;
        }
        if (name.EndsWith("in_proj_bias", StringComparison.Ordinal) || name.EndsWith("attn.out_proj.bias", StringComparison.Ordinal)) { p.zero_(); return; }
        // Linear / Conv2d defaults: kaiming_uniform(a=√5) for weights = U(±1/√fan_in), biases U(±1/√fan_in).
        long fanIn = name.EndsWith("c_fc.bias", StringComparison.Ordinal) ? width
            : name.EndsWith("c_proj.bias", StringComparison.Ordinal) ? mlpWidth
            : name.EndsWith(".bias", StringComparison.Ordinal) ? p.shape[0] : p.numel() / p.shape[0];
        double bound = 1.0 / Math.Sqrt(fanIn);
        p.uniform_(-bound, bound, g);
    }

    private static void InitText(string name, Tensor p, int width, int mlpWidth, int layers, Generator g)
    {
        double attnStd = Math.Pow(width, -0.5);
        double projStd = attnStd * Math.Pow(2.0 * layers, -0.5);
        double fcStd = Math.Pow(2.0 * width, -0.5);
        if (IsNorm(name)) { Norm(name, p); return; }
        switch (name)
        {
            case "token_embedding.weight": p.normal_(0, 0.02, g); return;
            case "positional_embedding" or "cls_emb": p.normal_(0, 0.01, g); return;
            case "text_projection": p.normal_(0, attnStd, g); return;
        }
        if (name.EndsWith("attn.in_proj_weight", StringComparison.Ordinal)) p.normal_(0, attnStd, g);
        else if (name.EndsWith("attn.out_proj.weight", StringComparison.Ordinal) || name.EndsWith("mlp.c_proj.weight", StringComparison.Ordinal)) p.normal_(0, projStd, g);
        else if (name.EndsWith("mlp.c_fc.weight", StringComparison.Ordinal)) p.normal_(0, fcStd, g);
        else if (name.EndsWith("in_proj_bias", StringComparison.Ordinal) || name.EndsWith("attn.out_proj.bias", StringComparison.Ordinal)) p.zero_();
        else if (name.EndsWith("mlp.c_fc.bias", StringComparison.Ordinal) || name.EndsWith("mlp.c_proj.bias", StringComparison.Ordinal))
        {
            double bound = 1.0 / Math.Sqrt(name.EndsWith("c_fc.bias", StringComparison.Ordinal) ? width : mlpWidth);
            p.uniform_(-bound, bound, g);
        }
        else throw new InvalidOperationException($"No initialiser for text parameter '{name}'.");
    }

    private static void XavierUniform(Tensor p, long fanOut, long fanIn, Generator g)
    {
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        p.uniform_(-bound, bound, g);
    }

    private static void Norm(string name, Tensor p)
    {
        if (name.EndsWith(".weight", StringComparison.Ordinal)) p.fill_(TorchScalars.One);
        else p.zero_();
    }

    /// <summary>A LayerNorm parameter: the module name before ".weight"/".bias" starts with "ln_".</summary>
    private static bool IsNorm(string name)
    {
        int dot = name.LastIndexOf('.');
        if (dot < 0) return false;
        int start = name.LastIndexOf('.', dot - 1) + 1;
        return name.AsSpan(start, dot - start).StartsWith("ln_", StringComparison.Ordinal);
    }
}

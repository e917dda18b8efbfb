namespace CoCa.MLNet.Tests.Onnx;

/// <summary>
/// Naive float64 building blocks of open_clip's transformers, written from the PyTorch definitions
/// (independent of the ONNX graph code). Matrices are row-major double[] with explicit sizes.
/// </summary>
internal static class ReferenceOps
{
    public const double LayerNormEpsilon = 1e-5;

    /// <summary>nn.LayerNorm over each row of x [rows, dim] (biased variance).</summary>
    public static double[] LayerNorm(double[] x, int rows, int dim, float[] weight, float[] bias)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < dim; i++) mean += x[r * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) { var d = x[r * dim + i] - mean; variance += d * d; }
            variance /= dim;
            double inv = 1 / Math.Sqrt(variance + LayerNormEpsilon);
            for (int i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i] - mean) * inv * weight[i] + bias[i];
        }
        return y;
    }

    /// <summary>nn.Linear: x [rows, inDim] · Wᵀ (W [outDim, inDim], starting at row <paramref name="weightRowOffset"/>) + b.</summary>
    public static double[] Linear(double[] x, int rows, int inDim, float[] weight, float[]? bias, int outDim, int weightRowOffset = 0, int biasOffset = 0)
    {
        var y = new double[rows * outDim];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outDim; o++)
            {
                double s = bias is null ? 0 : bias[biasOffset + o];
                int w = (weightRowOffset + o) * inDim;
                for (int i = 0; i < inDim; i++) s += x[r * inDim + i] * weight[w + i];
                y[r * outDim + o] = s;
            }
        return y;
    }

    /// <summary>x [rows, inDim] @ P with P stored [inDim, outDim] (open_clip's proj parameters).</summary>
    public static double[] MatMulRight(double[] x, int rows, int inDim, float[] p, int outDim)
    {
        var y = new double[rows * outDim];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outDim; o++)
            {
                double s = 0;
                for (int i = 0; i < inDim; i++) s += x[r * inDim + i] * p[i * outDim + o];
                y[r * outDim + o] = s;
            }
        return y;
    }

    /// <summary>
    /// Scaled dot-product attention over already-projected q [tq, E], k/v [tk, E], heads split contiguously;
    /// <paramref name="mask"/> [tq, tk] is added to the logits when given.
    /// </summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int tq, int tk, int embed, int heads, double[]? mask = null)
    {
        int hd = embed / heads;
        double scale = 1 / Math.Sqrt(hd);
        var o = new double[tq * embed];
        var logits = new double[tk];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < tq; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < tk; j++)
                {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += q[i * embed + h * hd + d] * k[j * embed + h * hd + d];
                    s = s * scale + (mask is null ? 0 : mask[i * tk + j]);
                    logits[j] = s;
                    max = Math.Max(max, s);
                }
                double sum = 0;
                for (int j = 0; j < tk; j++) { logits[j] = Math.Exp(logits[j] - max); sum += logits[j]; }
                for (int d = 0; d < hd; d++)
                {
                    double acc = 0;
                    for (int j = 0; j < tk; j++) acc += logits[j] / sum * v[j * embed + h * hd + d];
                    o[i * embed + h * hd + d] = acc;
                }
            }
        return o;
    }

    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>erf to ~1e-14: Maclaurin series for |x| &lt; 2.5, Laplace's continued fraction for erfc beyond.</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x), r;
        if (a < 2.5)
        {
            double x2 = a * a, term = a, sum = a;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = a;
            for (int k = 120; k >= 1; k--) t = a + k / 2.0 / t;
            r = 1 - Math.Exp(-a * a) / (Math.Sqrt(Math.PI) * t);
        }
        return x < 0 ? -r : r;
    }

    public static double[] Add(double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /// <summary>open_clip ResidualAttentionBlock on x [t, width] (one batch item).</summary>
    public static double[] ResidualBlock(double[] x, int t, int width, int heads, int mlpWidth, Func<string, float[]> w, string prefix, double[]? mask = null)
    {
        var h = LayerNorm(x, t, width, w(prefix + ".ln_1.weight"), w(prefix + ".ln_1.bias"));
        var inW = w(prefix + ".attn.in_proj_weight");
        var inB = w(prefix + ".attn.in_proj_bias");
        var q = Linear(h, t, width, inW, inB, width, 0, 0);
        var k = Linear(h, t, width, inW, inB, width, width, width);
        var v = Linear(h, t, width, inW, inB, width, 2 * width, 2 * width);
        var a = Attention(q, k, v, t, t, width, heads, mask);
        a = Linear(a, t, width, w(prefix + ".attn.out_proj.weight"), w(prefix + ".attn.out_proj.bias"), width);
        return MlpResidual(Add(x, a), t, width, mlpWidth, w, prefix);
    }

    /// <summary>open_clip's cross-attention ResidualAttentionBlock: x [t, width] attends to ln_1_kv(image [n, width]).</summary>
    public static double[] CrossBlock(double[] x, int t, double[] image, int n, int width, int heads, int mlpWidth, Func<string, float[]> w, string prefix)
    {
        var h = LayerNorm(x, t, width, w(prefix + ".ln_1.weight"), w(prefix + ".ln_1.bias"));
        var kv = LayerNorm(image, n, width, w(prefix + ".ln_1_kv.weight"), w(prefix + ".ln_1_kv.bias"));
        var inW = w(prefix + ".attn.in_proj_weight");
        var inB = w(prefix + ".attn.in_proj_bias");
        var q = Linear(h, t, width, inW, inB, width, 0, 0);
        var k = Linear(kv, n, width, inW, inB, width, width, width);
        var v = Linear(kv, n, width, inW, inB, width, 2 * width, 2 * width);
        var a = Attention(q, k, v, t, n, width, heads);
        a = Linear(a, t, width, w(prefix + ".attn.out_proj.weight"), w(prefix + ".attn.out_proj.bias"), width);
        return MlpResidual(Add(x, a), t, width, mlpWidth, w, prefix);
    }

    /// <summary>The second half of an open_clip ResidualAttentionBlock: x + mlp(ln_2(x)).</summary>
    private static double[] MlpResidual(double[] x, int t, int width, int mlpWidth, Func<string, float[]> w, string prefix)
    {
        var h = LayerNorm(x, t, width, w(prefix + ".ln_2.weight"), w(prefix + ".ln_2.bias"));
        h = Linear(h, t, width, w(prefix + ".mlp.c_fc.weight"), w(prefix + ".mlp.c_fc.bias"), mlpWidth);
        for (int i = 0; i < h.Length; i++) h[i] = Gelu(h[i]);
        h = Linear(h, t, mlpWidth, w(prefix + ".mlp.c_proj.weight"), w(prefix + ".mlp.c_proj.bias"), width);
        return Add(x, h);
    }
}

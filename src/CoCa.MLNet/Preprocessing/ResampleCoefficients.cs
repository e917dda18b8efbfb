namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The fixed-point convolution weights of one resampling pass (one axis), computed exactly as Pillow's
/// <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> (libImaging/Resample.c) do, so that the 8-bit results match
/// PIL bit for bit: same double arithmetic in the same order, same rounding to 22-bit fixed point.
/// </summary>
internal sealed class ResampleCoefficients
{
    /// <summary>Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2 (two bits of headroom for negative lobes).</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The accumulator's starting value: one half in fixed point, so the final shift rounds to nearest.</summary>
    public const int Half = 1 << (PrecisionBits - 1);

    private ResampleCoefficients(int outSize, int kernelSize)
    {
        KernelSize = kernelSize;
        First = new int[outSize];
        Count = new int[outSize];
        Weights = new int[outSize * kernelSize];
    }

    /// <summary>Stride of <see cref="Weights"/> per output position.</summary>
    public int KernelSize { get; }
    /// <summary>First input index each output position reads.</summary>
    public int[] First { get; }
    /// <summary>Number of input positions each output position reads (starting at <see cref="First"/>).</summary>
    public int[] Count { get; }
    /// <summary>Fixed-point weights, <see cref="KernelSize"/> per output position, zero past <see cref="Count"/>.</summary>
    public int[] Weights { get; }

    public int OutSize => First.Length;

    public static ResampleCoefficients Compute(int inSize, int outSize, ResamplingFilter filter)
    {
        var (first, count, normalized, kernelSize) = ComputeNormalized(inSize, outSize, filter);
        var result = new ResampleCoefficients(outSize, kernelSize);
        first.CopyTo(result.First, 0);
        count.CopyTo(result.Count, 0);
        for (int i = 0; i < normalized.Length; i++)
        {
            double n = normalized[i];
            // normalize_coeffs_8bpc: round half away from zero into 22-bit fixed point.
            result.Weights[i] = n < 0 ? (int)(-0.5 + n * (1 << PrecisionBits)) : (int)(0.5 + n * (1 << PrecisionBits));
        }
        return result;
    }

    /// <summary>
    /// Pillow's <c>precompute_coeffs</c>: per output position the first input index, the number of inputs read and the
    /// normalized double weights (<c>kernelSize</c> per position, zero past the count). The 32-bit ("I", "F") resampling
    /// uses these doubles as they are.
    /// </summary>
    internal static (int[] First, int[] Count, double[] Weights, int KernelSize) ComputeNormalized(int inSize, int outSize, ResamplingFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outSize);
        double filterSupport = filter switch
        {
            ResamplingFilter.Bilinear => 1.0,
            ResamplingFilter.Bicubic => 2.0,
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Only convolution filters (bilinear, bicubic) have coefficients."),
        };

        // PIL passes the box as floats (0, inSize); (in1 - in0) is exact for any realistic size.
        double scale = (double)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = filterSupport * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;

        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new double[outSize * kernelSize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            // C's (int) cast truncates toward zero, as C#'s does.
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;

            var k = weights.AsSpan(xx * kernelSize, kernelSize);
            double ww = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Evaluate(filter, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
                k[x] = ww != 0.0 ? k[x] / ww : k[x];
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return (first, count, weights, kernelSize);
    }

    /// <summary>Pillow's filter functions, written with the same operation order so doubles round identically.</summary>
    internal static double Evaluate(ResamplingFilter filter, double x)
    {
        if (x < 0.0) x = -x;
        if (filter == ResamplingFilter.Bilinear)
            return x < 1.0 ? 1.0 - x : 0.0;

        const double a = -0.5;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
}

namespace CoCa.MLNet.Preprocessing;

/// <summary>The PIL resampling filters open_clip's eval transform can use.</summary>
internal enum ResamplingFilter
{
    /// <summary>PIL <c>NEAREST</c>; PIL forces it for palette ("P") and bilevel ("1") images whatever was asked.</summary>
    Nearest,
    /// <summary>PIL <c>BILINEAR</c> (triangle filter, support 1, antialiased when shrinking).</summary>
    Bilinear,
    /// <summary>PIL <c>BICUBIC</c> (Keys cubic with a = -0.5, support 2, antialiased when shrinking).</summary>
    Bicubic,
}

/// <summary>Maps open_clip's <c>preprocess_cfg.interpolation</c> names to <see cref="ResamplingFilter"/>.</summary>
internal static class ResamplingFilters
{
    /// <summary>
    /// "bicubic" → Bicubic, "bilinear" → Bilinear, "random" → Bicubic (open_clip ignores "random" outside training and
    /// uses BICUBIC). Anything else is refused, as open_clip's own assert does.
    /// </summary>
    public static ResamplingFilter FromOpenClipName(string interpolation)
    {
        ArgumentNullException.ThrowIfNull(interpolation);
        return interpolation.Trim().ToLowerInvariant() switch
        {
            "bicubic" or "random" => ResamplingFilter.Bicubic,
            "bilinear" => ResamplingFilter.Bilinear,
            _ => throw new NotSupportedException(
                $"Unsupported interpolation '{interpolation}' in the preprocessing config; open_clip accepts 'bicubic', 'bilinear' or 'random'."),
        };
    }
}

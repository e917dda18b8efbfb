namespace CoCa.MLNet.Preprocessing;

/// <summary>How the colour bytes of an <see cref="Microsoft.ML.Data.MLImage"/> relate to its alpha.</summary>
internal enum MLImageAlpha
{
    /// <summary>
    /// Colours are premultiplied by alpha: what <c>MLImage.CreateFromFile</c>/<c>CreateFromStream</c> (and ML.NET's
    /// LoadImages) hold, because SkiaSharp's <c>SKBitmap.Decode</c> premultiplies. Opaque pixels are unaffected.
    /// </summary>
    Premultiplied,
    /// <summary>Colours are independent of alpha, e.g. pixels given to <c>MLImage.CreateFromPixels</c> from straight RGBA.</summary>
    Straight,
}

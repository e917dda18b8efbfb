namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The family of PIL mode an image file opens as. It matters because open_clip's eval transform resizes (and crops)
/// BEFORE <c>convert("RGB")</c>, and PIL's <c>Image.resize</c> treats the families differently.
/// </summary>
internal enum PilImageMode
{
    /// <summary>"RGB" or "L" (and JPEG's YCbCr): every channel resampled with the requested filter.</summary>
    Rgb,
    /// <summary>
    /// "RGBA" or "LA": PIL premultiplies by alpha (RGBa), resamples all four channels, then un-premultiplies; a pixel
    /// whose resampled alpha is 0 therefore comes out black.
    /// </summary>
    Rgba,
    /// <summary>"P" (palette) or "1" (bilevel): PIL always resizes these with NEAREST, whatever filter was asked.</summary>
    Palette,
    /// <summary>
    /// "I" (32-bit integer grey; a 16-bit greyscale PNG opens so, values 0–65535): resampled as integers, then
    /// <c>convert("RGB")</c> clips each value to 0–255, so most such images come out nearly white, as in open_clip.
    /// </summary>
    Integer,
}

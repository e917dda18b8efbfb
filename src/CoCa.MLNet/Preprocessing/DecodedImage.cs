namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// A decoded image as 8-bit RGBA (straight, not premultiplied alpha; rows top to bottom) together with the PIL mode
/// family its file opens as, which <see cref="CoCaImagePreprocessor"/> needs to resize exactly as open_clip does.
/// <see cref="ToRgb"/> gives what PIL's <c>convert("RGB")</c> gives.
/// </summary>
internal sealed class DecodedImage
{
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="rgba">Straight RGBA bytes, row-major.</param>
    /// <param name="mode">The PIL mode family the image opened as.</param>
    /// <param name="fillColor">What PIL's fill value 0 looks like in this image (see <see cref="FillColor"/>); black when omitted.</param>
    public DecodedImage(int width, int height, byte[] rgba, PilImageMode mode, (byte R, byte G, byte B) fillColor = default)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}x{height} must be positive.");
        if (rgba.Length != checked(width * height * 4))
            throw new ArgumentException($"An RGBA image of {width}x{height} needs {width * height * 4} bytes, got {rgba.Length}.", nameof(rgba));
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown PIL mode family.");
        Width = width;
        Height = height;
        Rgba = rgba;
        Mode = mode;
        FillColor = fillColor;
    }

    /// <summary>
    /// A mode "I" image (<see cref="PilImageMode.Integer"/>): its integer grey values; <see cref="Rgba"/> then holds them
    /// clipped to 0–255, as PIL's <c>convert("RGB")</c> gives them.
    /// </summary>
    internal static DecodedImage FromIntegerGrey(int width, int height, int[] values)
    {
        var rgba = new byte[checked(width * height * 4)];
        for (int i = 0; i < values.Length; i++)
        {
            byte v = PilConvert.Clip8(values[i]);
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (v, v, v, 255);
        }
        return new DecodedImage(width, height, rgba, PilImageMode.Integer) { IntegerGrey = values };
    }

    /// <summary>The integer grey values of a <see cref="PilImageMode.Integer"/> image (PIL mode "I"), else null.</summary>
    internal int[]? IntegerGrey { get; private init; }

    public int Width { get; }
    public int Height { get; }
    /// <summary>Row-major interleaved R,G,B,A bytes with straight alpha, length Width*Height*4.</summary>
    public byte[] Rgba { get; }
    public PilImageMode Mode { get; }

    /// <summary>
    /// The RGB colour that PIL's fill value 0 (open_clip's padding fill) becomes for this image: black, except for
    /// palette images, where 0 is a palette index and so means palette entry 0.
    /// </summary>
    public (byte R, byte G, byte B) FillColor { get; }

    /// <summary>PIL's <c>convert("RGB")</c>: the alpha channel is dropped, never composited.</summary>
    public RgbImage ToRgb()
    {
        var rgb = new byte[Width * Height * 3];
        PilConvert.RgbaToRgb(Rgba, rgb);
        return new RgbImage(Width, Height, rgb);
    }
}

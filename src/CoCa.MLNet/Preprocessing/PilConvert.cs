namespace CoCa.MLNet.Preprocessing;

/// <summary>The few mode conversions of PIL (libImaging/Convert.c) preprocessing needs, in PIL's integer arithmetic.</summary>
internal static class PilConvert
{
    public static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int n = rgba.Length / 4;
        for (int i = 0; i < n; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[i * 3 + 1] = rgba[i * 4 + 1];
            rgb[i * 3 + 2] = rgba[i * 4 + 2];
        }
    }

    /// <summary>PIL's RGBA → RGBa (Convert.c): c·a/255 rounded with MULDIV255; alpha unchanged.</summary>
    public static void Premultiply(ReadOnlySpan<byte> rgba, Span<byte> premultiplied)
    {
        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            int a = rgba[i + 3];
            premultiplied[i] = MulDiv255(rgba[i], a);
            premultiplied[i + 1] = MulDiv255(rgba[i + 1], a);
            premultiplied[i + 2] = MulDiv255(rgba[i + 2], a);
            premultiplied[i + 3] = (byte)a;
        }
    }

    /// <summary>PIL's RGBa → RGBA: c·255/a truncated and clipped to 255; pixels with alpha 0 or 255 are left as they are.</summary>
    public static void Unpremultiply(Span<byte> rgba)
    {
        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            int a = rgba[i + 3];
            if (a == 0 || a == 255) continue;
            rgba[i] = (byte)Math.Min(255, 255 * rgba[i] / a);
            rgba[i + 1] = (byte)Math.Min(255, 255 * rgba[i + 1] / a);
            rgba[i + 2] = (byte)Math.Min(255, 255 * rgba[i + 2] / a);
        }
    }

    /// <summary>PIL's CLIP8: mode "I" → "L"/"RGB" clips each value to 0–255.</summary>
    public static byte Clip8(int v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;

    private static byte MulDiv255(int c, int a)
    {
        int tmp = c * a + 128;
        return (byte)(((tmp >> 8) + tmp) >> 8);
    }
}

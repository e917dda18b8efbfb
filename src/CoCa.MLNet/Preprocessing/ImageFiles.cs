namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The image files CoCa.MLNet reads (<see cref="ImageDecoder"/>: PNG, JPEG, BMP, GIF, WebP through SkiaSharp, TIFF through
/// LibTiff.NET): the one list that folder readers (the CLI, frame folders of videos, the samples) take files by.
/// </summary>
public static class ImageFiles
{
    /// <summary>Extensions, lower-case with the dot; compare case-insensitively (<see cref="HasImageExtension"/>).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"];

    /// <summary>
    /// Image formats PIL (open_clip) may read that CoCa.MLNet does not decode: a folder of images holding them is refused
    /// (or they are skipped by name), never silently left out.
    /// </summary>
    internal static IReadOnlyList<string> OtherImageExtensions { get; } =
    [
        ".jp2", ".j2k", ".jpx", ".jpf", ".heic", ".heif", ".avif", ".jxl", ".ico", ".icns", ".cur", ".ppm", ".pgm", ".pbm",
        ".pnm", ".tga", ".psd", ".dds", ".pcx", ".sgi", ".rgb", ".xbm", ".xpm", ".eps", ".svg", ".dib", ".exr", ".hdr", ".dng", ".cr2", ".nef", ".arw",
    ];

    /// <summary>True for a path whose extension is one of <see cref="Extensions"/> (any case).</summary>
    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path ?? throw new ArgumentNullException(nameof(path))).ToLowerInvariant());

    /// <summary>
    /// Decodes the image file at <paramref name="path"/> as the featurizers and the captioner read it, keeping nothing, and
    /// throws what they would throw for it: <see cref="FileNotFoundException"/>, <see cref="InvalidDataException"/> naming
    /// the file, what is wrong (not an image, truncated, corrupt) and the formats expected, or
    /// <see cref="ImageTooLargeException"/>. Checks a folder before a long run instead of failing inside it.
    /// </summary>
    public static void EnsureReadable(string path) => _ = ImageDecoder.DecodeKeepingMode(path);
}

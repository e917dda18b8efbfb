namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The image files CoCa.MLNet reads (<see cref="ImageDecoder"/>: PNG, JPEG, BMP, GIF, WebP through SkiaSharp, TIFF through
/// LibTiff.NET): the one list that folder readers (the CLI, frame folders of videos, the samples) take files by.
/// </summary>
public static class ImageFiles
{
    /// <summary>Extensions, lower-case with the dot; compare case-insensitively (<see cref="HasImageExtension"/>).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"];

    /// <summary>True for a path whose extension is one of <see cref="Extensions"/> (any case).</summary>
    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path ?? throw new ArgumentNullException(nameof(path))).ToLowerInvariant());
}

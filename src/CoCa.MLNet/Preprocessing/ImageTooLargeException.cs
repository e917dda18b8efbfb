namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// An image whose header declares more pixels than the budget in force allows (a service's
/// <c>CoCaPredictionEnginePoolOptions.MaxImagePixels</c>): refused before any pixel is decoded. Batch code counts it
/// as an input that cannot be read, as it counts a corrupt file.
/// </summary>
public sealed class ImageTooLargeException : Exception
{
    public ImageTooLargeException(string image, int width, int height, long maxPixels, string message) : base(message)
    {
        Image = image;
        Width = width;
        Height = height;
        MaxPixels = maxPixels;
    }

    /// <summary>The image (its path, or the name given for its bytes).</summary>
    public string Image { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The budget it exceeds.</summary>
    public long MaxPixels { get; }

    /// <summary>Width × height.</summary>
    public long Pixels => (long)Width * Height;
}

namespace CoCa.MLNet.Preprocessing;

/// <summary>A rectangle of pixels: columns [X, X+Width), rows [Y, Y+Height).</summary>
internal readonly record struct PixelRegion(int X, int Y, int Width, int Height)
{
    public static PixelRegion Whole(int width, int height) => new(0, 0, width, height);

    public bool IsEmpty => Width <= 0 || Height <= 0;

    public void EnsureInside(int width, int height)
    {
        if (X < 0 || Y < 0 || Width < 0 || Height < 0 || X + Width > width || Y + Height > height)
            throw new ArgumentOutOfRangeException(nameof(PixelRegion), $"Region {this} does not lie inside a {width}x{height} image.");
    }
}

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// Where each output pixel of open_clip's eval transform comes from: the size the image is resized to, the part of
/// the resized image kept (<see cref="Source"/>), and where that part lands in the S×S output (the rest is fill).
/// Rounding follows torchvision 0.14 and open_clip exactly.
/// </summary>
internal readonly record struct PreprocessGeometry(int ResizedWidth, int ResizedHeight, PixelRegion Source, int OffsetX, int OffsetY)
{
    public static PreprocessGeometry For(int width, int height, int size, OpenClipResizeMode mode)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}x{height} must be positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        switch (mode)
        {
            case OpenClipResizeMode.Shortest:
            {
                // torchvision Resize(int): short side = S, long side = int(S * long / short) (truncation).
                int resizedWidth, resizedHeight;
                if (width <= height)
                {
                    resizedWidth = size;
                    resizedHeight = (int)((double)((long)size * height) / width);
                }
                else
                {
                    resizedHeight = size;
                    resizedWidth = (int)((double)((long)size * width) / height);
                }
                return CenterCropOrPad(resizedWidth, resizedHeight, size);
            }
            case OpenClipResizeMode.Squash:
                return new PreprocessGeometry(size, size, PixelRegion.Whole(size, size), 0, 0);
            case OpenClipResizeMode.Longest:
            {
                // open_clip ResizeKeepRatio(longest=1): ratio = max(h/S, w/S); side = round(side / ratio), half to even.
                double ratio = Math.Max((double)height / size, (double)width / size);
                int resizedHeight = (int)Math.Round(height / ratio, MidpointRounding.ToEven);
                int resizedWidth = (int)Math.Round(width / ratio, MidpointRounding.ToEven);
                if (resizedWidth <= 0 || resizedHeight <= 0)
                    throw new ArgumentException($"A {width}x{height} image is too elongated for resize_mode 'longest' at {size} px: it would be resized to {resizedWidth}x{resizedHeight}.");
                return CenterCropOrPad(resizedWidth, resizedHeight, size);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown resize mode.");
        }
    }

    /// <summary>
    /// torchvision's CenterCrop / open_clip's CenterCropOrPad: a side shorter than S is padded by (S-n)//2 before it;
    /// a longer one is cropped from int(round((n-S)/2.0)), Python rounding half to even.
    /// </summary>
    private static PreprocessGeometry CenterCropOrPad(int resizedWidth, int resizedHeight, int size)
    {
        var (sourceX, keptWidth, offsetX) = Axis(resizedWidth, size);
        var (sourceY, keptHeight, offsetY) = Axis(resizedHeight, size);
        return new PreprocessGeometry(resizedWidth, resizedHeight, new PixelRegion(sourceX, sourceY, keptWidth, keptHeight), offsetX, offsetY);
    }

    private static (int Start, int Length, int Offset) Axis(int length, int size)
    {
        if (length < size) return (0, length, (size - length) / 2);
        return (CropStart(length, size), size, 0);
    }

    /// <summary>int(round((length - size) / 2.0)) with Python's round-half-to-even.</summary>
    internal static int CropStart(int length, int size) => (int)Math.Round((length - size) / 2.0, MidpointRounding.ToEven);
}

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The 16-bit greyscale PNGs this process decoded with values above 255. open_clip reads them with PIL as mode "I" and
/// its RGB conversion clips those values to 255, so the model sees a near-white picture; CoCa.MLNet does the same, for
/// equal numbers. A command line says so once at its end (<c>coca</c>), rather than let such inputs pass unnoticed.
/// </summary>
internal static class ClippedGreyImages
{
    private static int _count;
    private static string? _first;

    public static void Record(string name)
    {
        if (Interlocked.Increment(ref _count) == 1) Volatile.Write(ref _first, name);
    }

    /// <summary>How many were decoded, and the first one's name.</summary>
    public static (int Count, string? First) Seen => (Volatile.Read(ref _count), Volatile.Read(ref _first));
}

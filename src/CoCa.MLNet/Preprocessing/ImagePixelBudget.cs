using System.Globalization;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// The most pixels an image may declare and still be decoded, where a service sets a budget (the prediction engine pool
/// of CoCa.MLNet.Hosting). The decoders check it right after reading the header, before taking any pixel memory: a
/// 440 KB PNG can declare 12000×12000 pixels (576 MB of RGBA). The budget is scoped to the calling flow (an
/// <see cref="AsyncLocal{T}"/>, which follows into the parallel decode of a batch), so a pool's budget does not reach
/// other code in the process, and the pool needs to know neither which input member is the image nor how the model
/// resolves its paths.
/// </summary>
internal static class ImagePixelBudget
{
    private sealed record Budget(long MaxPixels, string Setting);

    private static readonly AsyncLocal<Budget?> Current = new();

    /// <summary>
    /// Applies <paramref name="maxPixels"/> to the images decoded until the returned scope is disposed;
    /// <paramref name="setting"/> names where the budget is set, for the message.
    /// </summary>
    public static IDisposable Use(long maxPixels, string setting)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        var previous = Current.Value;
        Current.Value = new Budget(maxPixels, setting);
        return new Scope(previous);
    }

    /// <summary>Throws <see cref="ImageTooLargeException"/> when image <paramref name="name"/>'s declared size exceeds the budget in force.</summary>
    public static void Check(string name, int width, int height)
    {
        if (Current.Value is not { } budget || (long)width * height <= budget.MaxPixels) return;
        throw new ImageTooLargeException(name, width, height, budget.MaxPixels, string.Create(CultureInfo.InvariantCulture,
            $"Image '{name}' is {width}x{height} ({(long)width * height / 1e6:0.#} megapixels), more than the {budget.MaxPixels / 1e6:0.#} megapixels allowed ({budget.Setting}); it was not decoded."));
    }

    private sealed class Scope(Budget? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}

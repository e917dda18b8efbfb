using System.Globalization;

namespace CoCa.MLNet.IO;

/// <summary>
/// Sizes in bytes as people write them: <c>500M</c>, <c>20G</c>, <c>1.5T</c> (binary units, an optional trailing
/// <c>B</c> or <c>iB</c>; a bare number is bytes), and back (<c>7.4 GiB</c>).
/// </summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    /// <summary>"1.2 GiB", "512 KiB", "37 B".</summary>
    public static string Format(long bytes)
    {
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {Units[unit]}");
    }

    /// <summary>Reads a size of 0 or more bytes; false for anything else (negative, not a number, an unknown unit, too large).</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        else if (s.Length > 1 && char.IsLetter(s[^2]) && (s[^1] is 'B' or 'b')) s = s[..^1];
        int shift = s.Length == 0 ? 0 : char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, 'B' => 0, _ => -1 };
        if (shift >= 0 && s.Length > 0 && char.IsLetter(s[^1])) s = s[..^1];
        else shift = 0;
        if (!double.TryParse(s.TrimEnd(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number)) return false;
        double value = Math.Round(number * Math.Pow(2, shift));
        if (value > long.MaxValue / 2) return false;
        bytes = (long)value;
        return true;
    }
}

using System.Text;
using System.Text.Json;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>One training example: an image file and its caption, with the line it came from (for error messages).</summary>
public sealed record ImageCaptionPair(string ImagePath, string Caption, int Line);

/// <summary>
/// Reads image–caption pairs: a CSV file with a header naming the columns <c>image</c> and <c>caption</c> (open_clip's
/// <c>--csv-img-key filepath --csv-caption-key title</c> convention with our column names; extra columns are ignored;
/// RFC 4180 quoting on one line), or JSON Lines (<c>.jsonl</c>/<c>.json</c>: one object a line with <c>"image"</c> and
/// <c>"caption"</c>). Image paths are relative to the data file's folder (or absolute). Every bad row — missing field,
/// empty caption, image file that does not exist, malformed line — is reported with its line number; the reader
/// throws one <see cref="InvalidDataException"/> naming the file, the number of bad rows and the first ones.
/// </summary>
public static class ImageCaptionPairs
{
    public const string ImageColumn = "image";
    public const string CaptionColumn = "caption";
    private const int ErrorsShown = 5;

    public static IReadOnlyList<ImageCaptionPair> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Pairs file '{full}' does not exist: expected a CSV with header '{ImageColumn},{CaptionColumn}' or JSON Lines.", full);
        var folder = Path.GetDirectoryName(full)!;
        var errors = new List<string>();
        var pairs = new List<ImageCaptionPair>();
        bool jsonLines = full.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || full.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var rows = jsonLines ? ReadJsonLines(full, errors) : ReadCsv(full, errors);
        foreach (var (line, image, caption) in rows)
        {
            if (string.IsNullOrWhiteSpace(image)) { errors.Add($"line {line}: the image path is empty"); continue; }
            if (string.IsNullOrWhiteSpace(caption)) { errors.Add($"line {line}: the caption is empty"); continue; }
            var imagePath = Path.GetFullPath(Path.Combine(folder, image));
            if (!File.Exists(imagePath)) { errors.Add($"line {line}: image '{image}' does not exist ({imagePath})"); continue; }
            pairs.Add(new ImageCaptionPair(imagePath, caption, line));
        }
        if (errors.Count > 0)
            throw new InvalidDataException(
                $"Pairs file '{full}' has {errors.Count} bad row(s): {string.Join("; ", errors.Take(ErrorsShown))}" +
                (errors.Count > ErrorsShown ? $"; … ({errors.Count - ErrorsShown} more)" : "") + ".");
        if (pairs.Count == 0)
            throw new InvalidDataException($"Pairs file '{full}' has no image–caption pairs.");
        return pairs;
    }

    private static List<(int Line, string? Image, string? Caption)> ReadCsv(string path, List<string> errors)
    {
        var rows = new List<(int, string?, string?)>();
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var headerLine = reader.ReadLine();
        if (headerLine is null) throw new InvalidDataException($"Pairs file '{path}' is empty: expected a header '{ImageColumn},{CaptionColumn}'.");
        var header = SplitCsv(headerLine, out var headerError);
        if (headerError is not null) throw new InvalidDataException($"Pairs file '{path}' line 1: {headerError}.");
        int imageIndex = header.FindIndex(h => string.Equals(h.Trim(), ImageColumn, StringComparison.OrdinalIgnoreCase));
        int captionIndex = header.FindIndex(h => string.Equals(h.Trim(), CaptionColumn, StringComparison.OrdinalIgnoreCase));
        if (imageIndex < 0 || captionIndex < 0)
            throw new InvalidDataException(
                $"Pairs file '{path}' line 1: the header '{headerLine}' must name the columns '{ImageColumn}' and '{CaptionColumn}' (a CSV with header '{ImageColumn},{CaptionColumn}').");
        int lineNumber = 1;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var fields = SplitCsv(line, out var error);
            if (error is not null) { errors.Add($"line {lineNumber}: {error}"); continue; }
            if (fields.Count <= Math.Max(imageIndex, captionIndex))
            {
                errors.Add($"line {lineNumber}: {fields.Count} field(s), expected {header.Count} as in the header");
                continue;
            }
            rows.Add((lineNumber, fields[imageIndex].Trim(), fields[captionIndex]));
        }
        return rows;
    }

    /// <summary>Splits one CSV line (fields may be quoted with "…", "" inside quotes is one quote).</summary>
    internal static List<string> SplitCsv(string line, out string? error)
    {
        error = null;
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) { error = "a quoted field is not closed on this line"; return fields; }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') { error = $"unexpected text after a quoted field at column {i + 1}"; return fields; }
            }
            else
            {
                while (i < line.Length && line[i] != ',') field.Append(line[i++]);
            }
            fields.Add(field.ToString());
            if (i >= line.Length) return fields;
            i++; // the comma
        }
    }

    private static List<(int Line, string? Image, string? Caption)> ReadJsonLines(string path, List<string> errors)
    {
        var rows = new List<(int, string?, string?)>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) { errors.Add($"line {lineNumber}: expected a JSON object with \"{ImageColumn}\" and \"{CaptionColumn}\""); continue; }
                string? image = doc.RootElement.TryGetProperty(ImageColumn, out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                string? caption = doc.RootElement.TryGetProperty(CaptionColumn, out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                if (image is null || caption is null) { errors.Add($"line {lineNumber}: expected string fields \"{ImageColumn}\" and \"{CaptionColumn}\""); continue; }
                rows.Add((lineNumber, image, caption));
            }
            catch (JsonException e)
            {
                errors.Add($"line {lineNumber}: not valid JSON ({e.Message.Split('.')[0]})");
            }
        }
        return rows;
    }
}

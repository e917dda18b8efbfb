using System.Text.Json;
using CoCa.MLNet.Video;
using CsvHelper;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// One example: an image file (or, for retrieval evaluation, a video: a video file or a folder of frame images) and its
/// caption, with the line it came from (for error messages).
/// </summary>
public sealed record ImageCaptionPair(string ImagePath, string Caption, int Line)
{
    /// <summary>The pairs file the row came from (full path), or null for pairs made in code: error messages name it.</summary>
    public string? DataFile { get; init; }

    /// <summary>"line N of 'file'" (or "line N" without a <see cref="DataFile"/>), for error messages.</summary>
    internal string Origin => DataFile is null ? $"line {Line}" : $"line {Line} of '{DataFile}'";

    /// <summary>True when <see cref="ImagePath"/> names a video: a folder (of frame images) or a file with a video extension (.mp4, .webm, ...).</summary>
    public bool IsVideo => VideoFiles.IsVideo(ImagePath);
}

/// <summary>
/// Reads image–caption pairs: a CSV file with a header naming the columns <c>image</c> and <c>caption</c> (open_clip's
/// <c>--csv-img-key filepath --csv-caption-key title</c> convention with our column names; other columns are ignored),
/// read as RFC 4180 by CsvHelper (quoted fields may hold commas, doubled quotes and line breaks; a row with more fields
/// than the header — typically an unquoted comma in a caption — is refused, never cut), or JSON Lines
/// (<c>.jsonl</c>/<c>.json</c>: one object a line with <c>"image"</c> and <c>"caption"</c>). Image paths are relative
/// to the data file's folder (or absolute); an image may also be a video file or a folder of frame images (for
/// retrieval evaluation; <see cref="ImageCaptionPair.IsVideo"/>). Rows naming the same path are one image with several
/// captions. Every bad row — missing or extra field, bad quoting, empty caption, image that does not exist — is
/// reported with the line it starts on; the reader throws one <see cref="InvalidDataException"/> naming the file, the
/// number of bad rows and the first ones.
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
        var errors = new List<(int Line, string Text)>();
        var pairs = new List<ImageCaptionPair>();
        bool jsonLines = full.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || full.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var rows = jsonLines ? ReadJsonLines(full, errors) : ReadCsv(full, errors);
        foreach (var (line, image, caption) in rows)
        {
            if (string.IsNullOrWhiteSpace(image)) { errors.Add((line, $"line {line}: the image path is empty")); continue; }
            if (string.IsNullOrWhiteSpace(caption)) { errors.Add((line, $"line {line}: the caption is empty")); continue; }
            // Trailing separators dropped: "clip/" and "clip" are the same video (rows naming one path are one image).
            var imagePath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(folder, image.Trim())));
            if (Directory.Exists(imagePath))
            {
                if (!HasFrameImages(imagePath)) { errors.Add((line, $"line {line}: '{image}' is a folder without frame images ({imagePath}); expected an image, a video file or a folder of frame images")); continue; }
            }
            else if (!File.Exists(imagePath)) { errors.Add((line, $"line {line}: image '{image}' does not exist ({imagePath})")); continue; }
            pairs.Add(new ImageCaptionPair(imagePath, caption, line) { DataFile = full });
        }
        if (errors.Count > 0)
        {
            var sorted = errors.OrderBy(e => e.Line).Select(e => e.Text).ToList();
            throw new InvalidDataException(
                $"Pairs file '{full}' has {sorted.Count} bad row(s): {string.Join("; ", sorted.Take(ErrorsShown))}" +
                (sorted.Count > ErrorsShown ? $"; … ({sorted.Count - ErrorsShown} more)" : "") + ".");
        }
        if (pairs.Count == 0)
            throw new InvalidDataException($"Pairs file '{full}' has no image–caption pairs.");
        return pairs;
    }

    private static List<(int Line, string? Image, string? Caption)> ReadCsv(string path, List<(int Line, string Text)> errors)
    {
        var rows = new List<(int, string?, string?)>();
        var malformed = new List<CsvMalformedRecord>();
        var options = CsvReaderOptions.Default with
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            TrimWhitespace = true, // spaces around fields ("a.png, a cat") and before an opening quote are not part of a value
            MalformedData = CsvMalformedDataHandling.Skip,
            FieldCountMismatch = CsvFieldCountHandling.Allow, // checked below, with the hint a user needs
            OnMalformedRecord = malformed.Add,
        };
        using (var reader = CsvReader.FromFile(path, options))
        {
            var header = reader.Headers;
            if (malformed.Count > 0 && malformed[0].LineNumber <= 1)
                throw new InvalidDataException($"Pairs file '{path}' line 1: {Describe(malformed[0].Reason)}.");
            if (header.Count == 0)
                throw new InvalidDataException($"Pairs file '{path}' is empty: expected a header '{ImageColumn},{CaptionColumn}'.");
            int imageIndex = IndexOf(header, ImageColumn), captionIndex = IndexOf(header, CaptionColumn);
            if (imageIndex < 0 || captionIndex < 0)
                throw new InvalidDataException(
                    $"Pairs file '{path}' line 1: the header '{string.Join(",", header)}' must name the columns '{ImageColumn}' and '{CaptionColumn}' (a CSV with header '{ImageColumn},{CaptionColumn}').");
            while (reader.Read())
            {
                int line = (int)reader.LineNumber;
                int count = reader.FieldCount;
                if (count == 1 && reader.GetString(0).Length == 0) continue; // a blank line
                if (count > header.Count)
                    errors.Add((line, $"line {line}: {count} fields but the header has {header.Count} ({string.Join(",", header)}); " +
                        "put a caption that contains a comma in double quotes (e.g. a.png,\"a red circle, on the left\")"));
                else if (count < header.Count)
                    errors.Add((line, $"line {line}: {count} field(s), expected {header.Count} as in the header"));
                else
                    rows.Add((line, reader.GetString(imageIndex), reader.GetString(captionIndex)));
            }
        }
        foreach (var bad in malformed)
            errors.Add(((int)bad.LineNumber, $"line {bad.LineNumber}: {Describe(bad.Reason)}"));
        return rows;
    }

    private static int IndexOf(IReadOnlyList<string> header, string column)
    {
        for (int i = 0; i < header.Count; i++)
            if (string.Equals(header[i], column, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.UnterminatedQuote => "a quoted field is not closed (it runs to the end of the file)",
        CsvMalformedReason.StrayQuote => "a quote inside an unquoted field; quote the whole field (\"…\") and double the quotes inside it (\"\")",
        CsvMalformedReason.TextAfterClosingQuote => "text after the closing quote of a quoted field; double the quotes inside a quoted field (\"\")",
        _ => $"malformed CSV ({reason})",
    };

    private static bool HasFrameImages(string folder)
    {
        var extensions = VideoReaderOptions.Default.FrameImageExtensions;
        return Directory.EnumerateFiles(folder).Any(f => extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase));
    }

    private static List<(int Line, string? Image, string? Caption)> ReadJsonLines(string path, List<(int Line, string Text)> errors)
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
                if (doc.RootElement.ValueKind != JsonValueKind.Object) { errors.Add((lineNumber, $"line {lineNumber}: expected a JSON object with \"{ImageColumn}\" and \"{CaptionColumn}\"")); continue; }
                string? image = doc.RootElement.TryGetProperty(ImageColumn, out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                string? caption = doc.RootElement.TryGetProperty(CaptionColumn, out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                if (image is null || caption is null) { errors.Add((lineNumber, $"line {lineNumber}: expected string fields \"{ImageColumn}\" and \"{CaptionColumn}\"")); continue; }
                rows.Add((lineNumber, image, caption));
            }
            catch (JsonException e)
            {
                errors.Add((lineNumber, $"line {lineNumber}: not valid JSON ({e.Message.Split('.')[0]})"));
            }
        }
        return rows;
    }
}

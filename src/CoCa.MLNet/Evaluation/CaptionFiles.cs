using System.Text.Json;

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// Reads reference captions and a model's captions for <see cref="CaptionMetrics"/>. References: COCO's captions format
/// (<c>{"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}</c>) or JSON Lines
/// <c>{"input", "references": [...]}</c>. Results: COCO's results format (<c>[{"image_id", "caption"}]</c>) or the JSON
/// Lines <c>coca caption --out</c> writes (<c>{"input", "text", "ids"}</c>). Every problem is one
/// <see cref="InvalidDataException"/> naming the file, the place (line, or array index) and what was expected.
/// </summary>
internal static class CaptionFiles
{
    private const string ReferencesFormats = "COCO captions JSON ({\"images\": [...], \"annotations\": [{\"image_id\", \"caption\"}, ...]}) or JSON Lines {\"input\", \"references\": [...]}";
    private const string ResultsFormats = "COCO results JSON ([{\"image_id\", \"caption\"}, ...]) or the JSON Lines 'coca caption --out' writes ({\"input\", \"text\"})";
    private const int ErrorsShown = 5;

    /// <summary>An image of one file: its id (COCO image_id or JSON Lines input) and, where known, its file name.</summary>
    private sealed record Item(string Id, string? FileName);

    public static (Dictionary<string, IReadOnlyList<string>> References, Dictionary<string, string> Candidates) Read(string referencesPath, string resultsPath)
    {
        ArgumentNullException.ThrowIfNull(referencesPath);
        ArgumentNullException.ThrowIfNull(resultsPath);
        var references = ReadReferences(referencesPath);
        var results = ReadResults(resultsPath);

        // Pair on ids; else on file names (COCO references with 'coca caption' results), when they are unique on both sides.
        var byId = Pair(references, results, i => i.Id);
        if (byId is not null) return byId.Value;
        bool namesUsable = references.Keys.All(i => i.FileName is not null) && results.Keys.All(i => i.FileName is not null)
            && references.Keys.Select(i => i.FileName).Distinct(StringComparer.Ordinal).Count() == references.Count
            && results.Keys.Select(i => i.FileName).Distinct(StringComparer.Ordinal).Count() == results.Count;
        if (namesUsable && Pair(references, results, i => i.FileName!) is { } byName) return byName;

        // Say what differs in the names the two files share: file names when no id is common to both.
        bool onNames = namesUsable && !references.Keys.Select(i => i.Id).Intersect(results.Keys.Select(i => i.Id), StringComparer.Ordinal).Any();
        Func<Item, string> key = onNames ? i => i.FileName! : i => i.Id;
        var message = CaptionMatching.Mismatch(references.Keys.Select(key), results.Keys.Select(key), "references", "results");
        throw new InvalidDataException(
            $"References '{Path.GetFullPath(referencesPath)}' and results '{Path.GetFullPath(resultsPath)}' name different images{(onNames ? " (compared by file name)" : "")}: {message}");
    }

    private static (Dictionary<string, IReadOnlyList<string>>, Dictionary<string, string>)? Pair(
        Dictionary<Item, List<string>> references, Dictionary<Item, string> results, Func<Item, string> key)
    {
        var resultByKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (item, caption) in results) resultByKey[key(item)] = caption;
        var referenceKeys = references.Keys.Select(key).ToHashSet(StringComparer.Ordinal);
        if (referenceKeys.Count != references.Count || !referenceKeys.SetEquals(resultByKey.Keys)) return null;
        var refs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var candidates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (item, captions) in references)
        {
            refs[item.Id] = captions;
            candidates[item.Id] = resultByKey[key(item)];
        }
        return (refs, candidates);
    }

    private static Dictionary<Item, List<string>> ReadReferences(string path)
    {
        var (full, text) = ReadText(path, "References", ReferencesFormats);
        var first = text.TrimStart()[0];
        if (first == '[')
            throw new InvalidDataException($"References file '{full}' is a JSON array; expected {ReferencesFormats} (a COCO results array goes to --results).");
        if (first != '{')
            throw new InvalidDataException($"References file '{full}' is not JSON; expected {ReferencesFormats}.");
        var whole = TryParse(text, out var wholeError, out _);
        using (whole)
        {
            if (whole is not null && whole.RootElement.TryGetProperty("annotations", out _))
                return ReadCocoReferences(full, whole.RootElement);
            if (whole is null && !FirstLineIsObject(text))
                throw new InvalidDataException($"References file '{full}' is not valid JSON ({wholeError}); expected {ReferencesFormats}.");
        }
        var errors = new List<string>();
        var references = new Dictionary<Item, List<string>>();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, o) in JsonLines(text, errors, "{\"input\", \"references\": [...]}"))
        {
            var input = NonEmptyString(o, "input");
            if (input is null) { errors.Add($"line {line}: expected a non-empty string \"input\" (the image)"); continue; }
            if (!o.TryGetProperty("references", out var refs) || refs.ValueKind != JsonValueKind.Array || refs.GetArrayLength() == 0)
            { errors.Add($"line {line}: expected \"references\", a non-empty array of captions"); continue; }
            if (refs.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(r.GetString())))
            { errors.Add($"line {line}: every reference must be a non-empty string"); continue; }
            if (lineOf.TryGetValue(input, out var earlier)) { errors.Add($"line {line}: input '{input}' is already on line {earlier}"); continue; }
            lineOf[input] = line;
            references[new Item(input, Path.GetFileName(input))] = refs.EnumerateArray().Select(r => r.GetString()!).ToList();
        }
        ThrowIfAny(errors, full, "References");
        if (references.Count == 0) throw new InvalidDataException($"References file '{full}' has no images; expected {ReferencesFormats}.");
        return references;
    }

    private static Dictionary<Item, List<string>> ReadCocoReferences(string full, JsonElement root)
    {
        var annotations = root.GetProperty("annotations");
        if (annotations.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"References file '{full}': \"annotations\" is {annotations.ValueKind}; expected an array of {{\"image_id\", \"caption\"}}.");
        var fileNames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("images", out var images) && images.ValueKind == JsonValueKind.Array)
            foreach (var image in images.EnumerateArray())
                if (image.ValueKind == JsonValueKind.Object && ImageId(image, "id") is { } id && NonEmptyString(image, "file_name") is { } name)
                    fileNames[id] = name;
        var errors = new List<string>();
        var byId = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        int index = 0;
        foreach (var a in annotations.EnumerateArray())
        {
            var where = $"annotations[{index++}]";
            if (a.ValueKind != JsonValueKind.Object) { errors.Add($"{where}: expected an object {{\"image_id\", \"caption\"}}"); continue; }
            var id = ImageId(a, "image_id");
            if (id is null) { errors.Add($"{where}: expected \"image_id\", a number or string"); continue; }
            var caption = NonEmptyString(a, "caption");
            if (caption is null) { errors.Add($"{where} (image_id {id}): expected \"caption\", a non-empty string"); continue; }
            if (!byId.TryGetValue(id, out var list)) byId[id] = list = [];
            list.Add(caption);
        }
        ThrowIfAny(errors, full, "References");
        if (byId.Count == 0) throw new InvalidDataException($"References file '{full}' has no annotations; expected {ReferencesFormats}.");
        return byId.ToDictionary(p => new Item(p.Key, fileNames.GetValueOrDefault(p.Key)), p => p.Value);
    }

    private static Dictionary<Item, string> ReadResults(string path)
    {
        var (full, text) = ReadText(path, "Results", ResultsFormats);
        var errors = new List<string>();
        var results = new Dictionary<Item, string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var first = text.TrimStart()[0];
        if (first == '[')
        {
            using var doc = TryParse(text, out var error, out _)
                ?? throw new InvalidDataException($"Results file '{full}' is not valid JSON ({error}); expected {ResultsFormats}.");
            int index = 0;
            foreach (var r in doc.RootElement.EnumerateArray())
            {
                var where = $"results[{index++}]";
                if (r.ValueKind != JsonValueKind.Object) { errors.Add($"{where}: expected an object {{\"image_id\", \"caption\"}}"); continue; }
                var id = ImageId(r, "image_id");
                if (id is null) { errors.Add($"{where}: expected \"image_id\", a number or string"); continue; }
                if (!r.TryGetProperty("caption", out var c) || c.ValueKind != JsonValueKind.String) { errors.Add($"{where} (image_id {id}): expected \"caption\", a string"); continue; }
                if (seen.TryGetValue(id, out var earlier)) { errors.Add($"{where}: a second caption for image_id {id} (first at {earlier}; one caption per image is scored)"); continue; }
                seen[id] = where;
                results[new Item(id, null)] = c.GetString()!;
            }
        }
        else if (first == '{')
        {
            using (var whole = TryParse(text, out _, out _))
                if (whole is not null && whole.RootElement.TryGetProperty("annotations", out _))
                    throw new InvalidDataException($"Results file '{full}' is in COCO's captions (references) format; expected {ResultsFormats} (references go to --references).");
            foreach (var (line, o) in JsonLines(text, errors, "{\"input\", \"text\"}"))
            {
                var input = NonEmptyString(o, "input");
                if (input is null) { errors.Add($"line {line}: expected a non-empty string \"input\" (the image)"); continue; }
                var caption = o.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                    : o.TryGetProperty("caption", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                if (caption is null) { errors.Add($"line {line}: expected \"text\", the caption (a string)"); continue; }
                if (seen.TryGetValue(input, out var earlier)) { errors.Add($"line {line}: input '{input}' is already on {earlier} (one caption per image is scored)"); continue; }
                seen[input] = $"line {line}";
                results[new Item(input, Path.GetFileName(input))] = caption;
            }
        }
        else
            throw new InvalidDataException($"Results file '{full}' is not JSON; expected {ResultsFormats}.");
        ThrowIfAny(errors, full, "Results");
        if (results.Count == 0) throw new InvalidDataException($"Results file '{full}' has no captions; expected {ResultsFormats}.");
        return results;
    }

    private static (string Full, string Text) ReadText(string path, string what, string formats)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new InvalidDataException($"{what} file '{full}' is a folder; expected {formats}.");
        if (!File.Exists(full)) throw new FileNotFoundException($"{what} file '{full}' does not exist; expected {formats}.", full);
        var text = File.ReadAllText(full);
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{what} file '{full}' is empty; expected {formats}.");
        return (full, text);
    }

    /// <summary>The parsed document, or null and the error: "line N: what is wrong" (N counted from 1 in <paramref name="text"/>).</summary>
    private static JsonDocument? TryParse(string text, out string? error, out string? reason)
    {
        try
        {
            error = reason = null;
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            reason = FirstSentence(e.Message);
            error = $"line {(e.LineNumber ?? 0) + 1}: {reason}";
            return null;
        }
    }

    private static bool FirstLineIsObject(string text)
    {
        var line = text.Split('\n').First(l => l.Trim().Length > 0);
        using var doc = TryParse(line, out _, out _);
        return doc?.RootElement.ValueKind == JsonValueKind.Object;
    }

    /// <summary>The objects of a JSON Lines text with their line numbers; a line that is not a JSON object is an error.</summary>
    private static IEnumerable<(int Line, JsonElement Object)> JsonLines(string text, List<string> errors, string expected)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            using var doc = TryParse(lines[i], out _, out var reason);
            if (doc is null) { errors.Add($"line {i + 1}: not valid JSON ({reason})"); continue; }
            if (doc.RootElement.ValueKind != JsonValueKind.Object) { errors.Add($"line {i + 1}: expected a JSON object {expected}"); continue; }
            yield return (i + 1, doc.RootElement.Clone());
        }
    }

    /// <summary>COCO's image ids are numbers (strings accepted): the id as written, e.g. "391895".</summary>
    private static string? ImageId(JsonElement o, string name) =>
        !o.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.Number ? NumericId(v)
        : v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()) ? v.GetString()
        : null;

    /// <summary>
    /// A number's value, not its spelling: 2, 2.0 and 2e0 are one image (pycocoevalcap's dict keys match them too, and a
    /// results file written by pandas or NumPy spells ids as floats).
    /// </summary>
    private static string NumericId(JsonElement v) =>
        v.TryGetDecimal(out var d) ? d.ToString("G29", System.Globalization.CultureInfo.InvariantCulture) : v.GetRawText();

    private static string? NonEmptyString(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()) ? v.GetString() : null;

    private static void ThrowIfAny(List<string> errors, string full, string what)
    {
        if (errors.Count == 0) return;
        throw new InvalidDataException($"{what} file '{full}' has {errors.Count} bad entr{(errors.Count == 1 ? "y" : "ies")}: {string.Join("; ", errors.Take(ErrorsShown))}"
            + (errors.Count > ErrorsShown ? $"; … ({errors.Count - ErrorsShown} more)" : "") + ".");
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return (dot > 0 ? message[..dot] : message).TrimEnd('.');
    }
}

namespace CoCa.MLNet.Evaluation;

/// <summary>Pairs the images of references and candidate captions, and says which are on one side only.</summary>
internal static class CaptionMatching
{
    private const int Shown = 3;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the images on one side only.</summary>
    public static void CheckSameImages(IEnumerable<string> referenceIds, IEnumerable<string> candidateIds, string referencesName, string candidatesName)
    {
        if (Mismatch(referenceIds, candidateIds, referencesName, candidatesName) is { } message) throw new ArgumentException(message);
    }

    /// <summary>
    /// Null when both sides name the same images; else one sentence: how many images have a candidate but no references
    /// and the reverse, with the first few of each.
    /// </summary>
    public static string? Mismatch(IEnumerable<string> referenceIds, IEnumerable<string> candidateIds, string referencesName, string candidatesName)
    {
        var references = referenceIds.ToHashSet(StringComparer.Ordinal);
        var candidates = candidateIds.ToHashSet(StringComparer.Ordinal);
        var candidateOnly = candidateIds.Where(id => !references.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
        var referenceOnly = referenceIds.Where(id => !candidates.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
        if (candidateOnly.Count == 0 && referenceOnly.Count == 0) return null;
        var parts = new List<string>();
        if (candidateOnly.Count > 0) parts.Add($"{candidateOnly.Count} image(s) have {candidatesName} but no {referencesName} ({List(candidateOnly)})");
        if (referenceOnly.Count > 0) parts.Add($"{referenceOnly.Count} image(s) have {referencesName} but no {candidatesName} ({List(referenceOnly)})");
        return string.Join(" and ", parts) + $": every image needs both ({references.Count} with {referencesName}, {candidates.Count} with {candidatesName}).";
    }

    private static string List(List<string> ids) =>
        string.Join(", ", ids.Take(Shown).Select(id => $"'{id}'")) + (ids.Count > Shown ? $", … {ids.Count - Shown} more" : "");
}

using CoCa.MLNet.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// Caption metrics exactly as pycocoevalcap (the COCO caption evaluation code) computes them: BLEU-1..4, ROUGE-L and
/// CIDEr-D, on captions tokenized as its PTBTokenizer leaves them (lower-cased Penn Treebank tokens, punctuation
/// removed). Each image has one candidate caption (the model's) and one or more reference captions. METEOR and SPICE
/// need Java and Stanford's models and are not computed.
/// </summary>
public static class CaptionMetrics
{
    /// <summary>
    /// Scores <paramref name="candidates"/> (image id → the model's caption) against <paramref name="references"/>
    /// (image id → the human captions). Both must name the same images: an image with a caption but no references, or
    /// the reverse, is refused, naming them. CIDEr-D's document frequencies come from these references, so score the
    /// whole evaluation set in one call (CIDEr of a single image is 0).
    /// </summary>
    /// <exception cref="ArgumentException">No images, an image on one side only, an image without references, a null caption, an empty
    /// reference, or references none of which has a word once tokenized.</exception>
    public static CaptionScores Compute(IReadOnlyDictionary<string, IReadOnlyList<string>> references, IReadOnlyDictionary<string, string> candidates)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(candidates);
        CaptionMatching.CheckSameImages(references.Keys, candidates.Keys, "references", "candidate captions");
        var ids = references.Keys.ToList();
        if (ids.Count == 0) throw new ArgumentException("There are no images to score: give at least one image with a candidate caption and references.");
        foreach (var id in ids)
        {
            if (references[id] is not { Count: > 0 } list) throw new ArgumentException($"Image '{id}' has no reference captions; every image needs at least one.");
            if (list.Any(r => r is null)) throw new ArgumentException($"Image '{id}' has a null reference caption.");
            // An empty reference (e.g. the padding of a fixed-size references column) would be scored as a caption.
            for (int r = 0; r < list.Count; r++)
                if (string.IsNullOrWhiteSpace(list[r]))
                    throw new ArgumentException($"Image '{id}' has an empty reference caption (reference {r + 1} of {list.Count}); every reference must be a caption: leave out empty ones (e.g. a fixed-size column's padding).");
            if (candidates[id] is null) throw new ArgumentException($"Image '{id}' has a null candidate caption.");
        }

        // Tokenize every distinct caption once (COCO repeats few, but a trainer's references do every epoch).
        var distinct = ids.SelectMany(id => references[id].Append(candidates[id])).Distinct(StringComparer.Ordinal).ToList();
        var tokenized = distinct.AsParallel().AsOrdered().Select(PtbCaptionTokenizer.Tokenize).ToList();
        var byCaption = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < distinct.Count; i++) byCaption[distinct[i]] = tokenized[i];

        // pycocoevalcap fails on such a set (cider_scorer.py: max() of empty document frequencies); there is nothing to score against.
        if (ids.All(id => references[id].All(r => byCaption[r].Length == 0)))
            throw new ArgumentException($"None of the {ids.Sum(id => references[id].Count)} reference captions of the {ids.Count} images has a word once tokenized (punctuation removed): there is nothing to score the captions against.");

        // BLEU and CIDEr split words as Python's str.split() does, ROUGE-L as str.split(" ") (scorers' own choices).
        var words = ids.Select(id => ((IReadOnlyList<string>)PythonText.Split(byCaption[candidates[id]]),
            (IReadOnlyList<IReadOnlyList<string>>)references[id].Select(r => (IReadOnlyList<string>)PythonText.Split(byCaption[r])).ToList())).ToList();
        var (bleu, bleuPerImage) = BleuScorer.Score(words);
        var cider = CiderDScorer.Score(words);
        var rouge = ids.Select(id => RougeLScorer.Score(RougeLScorer.Words(byCaption[candidates[id]]),
            references[id].Select(r => (IReadOnlyList<string>)RougeLScorer.Words(byCaption[r])).ToList())).ToArray();

        var perImage = new Dictionary<string, CaptionImageScores>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
        {
            var b = bleuPerImage[i];
            perImage[ids[i]] = new CaptionImageScores(b[0], b[1], b[2], b[3], rouge[i], cider[i]);
        }
        return new CaptionScores(bleu, rouge.Average(), cider.Average(), ids.Count, ids.Sum(id => references[id].Count), perImage);
    }

    /// <summary>
    /// Scores the files <c>coca evaluate-captions</c> reads: <paramref name="referencesPath"/> in COCO's captions format
    /// (<c>{"images": [...], "annotations": [{"image_id", "caption"}, ...]}</c>) or JSON Lines
    /// <c>{"input", "references": [...]}</c>; <paramref name="resultsPath"/> in COCO's results format
    /// (<c>[{"image_id", "caption"}, ...]</c>) or the JSON Lines <c>coca caption --out</c> writes (<c>{"input", "text"}</c>).
    /// Images are matched on their ids or inputs, else on file names (COCO's <c>images[].file_name</c>) when those are
    /// unique on both sides.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is empty, not valid JSON, misses a field, or the two name different images.</exception>
    public static CaptionScores Compute(string referencesPath, string resultsPath)
    {
        var (references, candidates) = CaptionFiles.Read(referencesPath, resultsPath);
        return Compute(references, candidates);
    }

    /// <summary>
    /// Scores the rows of <paramref name="data"/>, one image a row: <paramref name="captionColumnName"/> the model's caption
    /// (text, e.g. the column <c>GenerateCoCaCaption</c> writes) and <paramref name="referencesColumnName"/> the reference
    /// captions (a vector of text, or text for one reference). Per-image scores are keyed by row index ("0", "1", ...).
    /// A references vector holds the row's captions only: an empty entry (the padding of a fixed-size column) is refused.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text.</exception>
    /// <exception cref="ArgumentException">A row's references are empty or hold an empty caption.</exception>
    public static CaptionScores Compute(IDataView data, string captionColumnName = CoCaColumnNames.Caption, string referencesColumnName = CoCaColumnNames.References)
    {
        ArgumentNullException.ThrowIfNull(data);
        var caption = TextColumn(data, captionColumnName, allowVector: false);
        var refs = TextColumn(data, referencesColumnName, allowVector: true);
        var references = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var candidates = new Dictionary<string, string>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor([caption, refs]);
        var captionGetter = cursor.GetGetter<ReadOnlyMemory<char>>(caption);
        ValueGetter<ReadOnlyMemory<char>>? oneReference = refs.Type is TextDataViewType ? cursor.GetGetter<ReadOnlyMemory<char>>(refs) : null;
        ValueGetter<VBuffer<ReadOnlyMemory<char>>>? manyReferences = oneReference is null ? cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(refs) : null;
        ReadOnlyMemory<char> text = default;
        VBuffer<ReadOnlyMemory<char>> texts = default;
        for (int row = 0; cursor.MoveNext(); row++)
        {
            var id = row.ToString(System.Globalization.CultureInfo.InvariantCulture);
            captionGetter(ref text);
            candidates[id] = text.ToString();
            if (oneReference is not null)
            {
                oneReference(ref text);
                references[id] = [text.ToString()];
            }
            else
            {
                manyReferences!(ref texts);
                references[id] = texts.DenseValues().Select(t => t.ToString()).ToList();
            }
        }
        return Compute(references, candidates);
    }

    /// <summary>
    /// <paramref name="caption"/> as pycocoevalcap scores it: lower-cased Penn Treebank tokens (Stanford CoreNLP 3.4.1's
    /// PTBTokenizer, re-implemented) without the punctuation tokens pycocoevalcap removes, joined by single spaces.
    /// "Don't the dog's toys (red) look nice?" gives "do n't the dog 's toys -lrb- red -rrb- look nice".
    /// </summary>
    public static string Tokenize(string caption) => PtbCaptionTokenizer.Tokenize(caption);

    private static DataViewSchema.Column TextColumn(IDataView data, string name, bool allowVector)
    {
        var column = data.Schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(data), $"Column '{name}' not found (columns: {string.Join(", ", data.Schema.Select(c => c.Name))}); expected {(allowVector ? "a text or text-vector" : "a text")} column.");
        bool ok = column.Type is TextDataViewType || (allowVector && column.Type is VectorDataViewType { ItemType: TextDataViewType });
        if (!ok) throw new ArgumentOutOfRangeException(nameof(data), $"Column '{name}' is {column.Type}; expected {(allowVector ? "a text or text-vector" : "a text")} column.");
        return column;
    }
}

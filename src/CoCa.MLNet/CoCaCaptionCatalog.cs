using CoCa.MLNet.Captioning;
using CoCa.MLNet.Transforms;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>ML.NET catalog entry point for CoCa's captioner.</summary>
public static class CoCaCaptionCatalog
{
    /// <summary>
    /// Captions an image column (paths or MLImage) with CoCa's multimodal decoder, as open_clip's <c>generate()</c> does
    /// (beam search with 6 beams by default; see <see cref="CaptionGenerationOptions"/>). <paramref name="vocabPath"/> is
    /// open_clip's <c>bpe_simple_vocab_16e6.txt.gz</c> (or a CLIP vocab.json with merges.txt).
    /// </summary>
    public static CoCaCaptionEstimator GenerateCoCaCaption(this TransformsCatalog catalog, string modelPath, string vocabPath,
        string inputColumnName = CoCa.MLNet.CoCaColumnNames.Image, string outputColumnName = CoCa.MLNet.CoCaColumnNames.Caption, CaptionGenerationOptions? options = null) =>
        catalog.GenerateCoCaCaption(new CoCaCaptionOptions
        {
            ModelPath = modelPath,
            VocabPath = vocabPath,
            InputColumnName = inputColumnName,
            OutputColumnName = outputColumnName,
            Generation = options ?? new CaptionGenerationOptions(),
        });

    /// <summary>Captions an image column with all options (ids column, image folder, batch size, threads).</summary>
    public static CoCaCaptionEstimator GenerateCoCaCaption(this TransformsCatalog catalog, CoCaCaptionOptions options) =>
        new(CatalogEnvironment.Get(catalog), options);
}

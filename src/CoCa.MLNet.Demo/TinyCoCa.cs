using System.Diagnostics;
using System.Text.Json;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Demo;

/// <summary>
/// The walkthroughs' tiny CoCa, trained from scratch by this project's own trainer on generated captioned pictures
/// ("a red circle on the left"): 32² images, a 2-layer vision tower, 2-layer text tower and 1-layer captioning decoder,
/// a vocabulary whose words are single tokens (<see cref="CaptionVocabulary"/>). Trained, it names colours and shapes
/// zero-shot, retrieves pictures from captions, writes captions and gives tokens a pooler can classify — what the demo,
/// samples and notebooks show. <see cref="Train"/> makes one (about two minutes on 2 cores); <see cref="Get"/> makes it once
/// per recipe in a cache folder and reuses it.
/// </summary>
public static class TinyCoCa
{
    /// <summary>Image side of the model and of the generated pictures.</summary>
    public const int ImageSize = 32;

    /// <summary>Tokens per caption: start, the 6 words of the longest caption, end.</summary>
    public const int ContextLength = 8;

    /// <summary>The architecture: open_clip's CoCa, tiny. embed_dim = text width = decoder width, so it can caption.</summary>
    public static CoCaModelConfig Config { get; } = new()
    {
        Name = "coca_tiny_pictures",
        EmbedDim = 32,
        Vision = new VisionConfig { ImageSize = ImageSize, Layers = 2, Width = 48, PatchSize = 8, HeadWidth = 16, AttnPoolerQueries = 5, AttnPoolerHeads = 2 },
        Text = new TextConfig { ContextLength = ContextLength, VocabSize = 49408, Width = 32, Heads = 2, Layers = 2 },
        Multimodal = new MultimodalConfig { ContextLength = ContextLength, VocabSize = 49408, Width = 32, Heads = 2, Layers = 1 },
        Preprocess = new PreprocessConfig { ImageSize = ImageSize },
    };

    /// <summary>The words of every caption the picture generator writes: each is one token of the vocabulary.</summary>
    public static IReadOnlyList<string> Words { get; } =
        CaptionedPicturesDataset.AllCaptions().SelectMany(c => c.Split(' ')).Distinct().ToList();

    /// <summary>
    /// Makes held-out captioned pictures (a seed other than the training pictures'): <c>images/</c> and
    /// <paramref name="csvName"/> in <paramref name="folder"/>, which is replaced if it exists.
    /// </summary>
    public static IReadOnlyList<CaptionedPicture> HeldOutPictures(string folder, int count = 64, int seed = 2, string csvName = "test.csv")
    {
        Fresh(folder);
        return CaptionedPicturesDataset.Generate(folder, count, size: ImageSize, seed: seed, csvName: csvName);
    }

    // Built-in data goes into a fresh folder: pictures left there by an earlier run (or another version) would mix in.
    private static void Fresh(string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// Generated pictures sorted into one sub-folder per class of <paramref name="attribute"/> ("colour", "shape" or
    /// "place": the folder names are the class names, e.g. <c>red/</c>), as image datasets are usually laid out; about
    /// <paramref name="count"/> pictures in all. <paramref name="folder"/> is replaced if it exists. Returns it.
    /// </summary>
    public static string PicturesByClass(string folder, string attribute, int count, int seed)
    {
        Func<CaptionedPicture, string> classOf = attribute switch
        {
            "colour" => p => p.Colour,
            "shape" => p => p.Shape,
            "place" => p => p.Place.Split(' ')[^1],
            _ => throw new ArgumentException($"Attribute '{attribute}': expected colour, shape or place.", nameof(attribute)),
        };
        Fresh(folder);
        var staging = Path.Combine(folder, ".generated");
        foreach (var picture in CaptionedPicturesDataset.Generate(staging, count, size: ImageSize, seed: seed))
        {
            var classFolder = Path.Combine(folder, classOf(picture));
            Directory.CreateDirectory(classFolder);
            File.Move(picture.Path, Path.Combine(classFolder, Path.GetFileName(picture.Path)), overwrite: true);
        }
        Directory.Delete(staging, recursive: true);
        return folder;
    }

    /// <summary>
    /// Zero-shot prompt templates for the classes of <paramref name="attribute"/> ("colour" or "shape"): every caption
    /// the generator writes with the class's word replaced by <c>{c}</c> (16 each, e.g. "a {c} circle on the left"). The
    /// class embedding is their mean (prompt ensembling, as CLIP's zero-shot evaluation does).
    /// </summary>
    public static IReadOnlyList<string> Prompts(string attribute) => attribute switch
    {
        "colour" => CaptionedPicturesDataset.Shapes.SelectMany(s => CaptionedPicturesDataset.Places.Select(p => CaptionedPicturesDataset.Caption("{c}", s, p))).ToList(),
        "shape" => CaptionedPicturesDataset.Colours.SelectMany(c => CaptionedPicturesDataset.Places.Select(p => CaptionedPicturesDataset.Caption(c, "{c}", p))).ToList(),
        _ => throw new ArgumentException($"Attribute '{attribute}': expected colour or shape.", nameof(attribute)),
    };

    /// <summary>
    /// Trains a tiny CoCa from scratch into <paramref name="folder"/> (which must not hold one yet) and converts it to ONNX:
    /// writes the vocabulary, generates the training pictures, trains (<paramref name="progress"/> gets the trainer's
    /// reports), converts, and deletes the per-epoch checkpoints.
    /// </summary>
    public static TinyCoCaModel Train(string folder, TinyCoCaRecipe? recipe = null, IProgress<CoCaFineTuneProgress>? progress = null, Action<string>? log = null)
    {
        recipe ??= new TinyCoCaRecipe();
        folder = Path.GetFullPath(folder);
        return ConvertAndWriteManifest(folder, recipe, TrainWeights(folder, recipe, progress, log), log);
    }

    /// <summary>Writes the vocabulary and the training pictures into <paramref name="folder"/> and trains; returns the training seconds.</summary>
    private static double TrainWeights(string folder, TinyCoCaRecipe recipe, IProgress<CoCaFineTuneProgress>? progress, Action<string>? log)
    {
        Directory.CreateDirectory(folder);
        var vocabulary = CaptionVocabulary.Write(Path.Combine(folder, "vocabulary"), Words);
        log?.Invoke($"vocabulary: {Words.Count} caption words, one token each ({vocabulary})");

        var data = Path.Combine(folder, "train");
        CaptionedPicturesDataset.Generate(data, recipe.Pictures, size: ImageSize, seed: recipe.DataSeed);
        var pairsPath = Path.Combine(data, "pairs.csv");
        log?.Invoke($"training pictures: {recipe.Pictures} captioned {ImageSize}² pictures ({pairsPath})");

        var scratch = Path.Combine(folder, "scratch");
        OpenClipConfigWriter.Write(Config, scratch);
        var hub = Path.Combine(folder, "trained");
        var clock = Stopwatch.StartNew();
        CoCaFineTuner.Train(new CoCaFineTuneOptions
        {
            Checkpoint = scratch, VocabularyPath = vocabulary, OutputDirectory = hub,
            Epochs = recipe.Epochs, BatchSize = recipe.BatchSize, LearningRate = recipe.LearningRate,
            WarmupFraction = recipe.WarmupFraction, WeightDecay = recipe.WeightDecay, Seed = recipe.Seed, Precision = recipe.Precision,
            ProgressEverySteps = 1_000_000,   // one report per epoch
            Progress = progress,
        }, ImageCaptionPairs.Read(pairsPath));
        double seconds = clock.Elapsed.TotalSeconds;
        Directory.Delete(Path.Combine(hub, "checkpoints"), recursive: true);   // per-epoch checkpoints with optimizer state: not needed here
        Directory.Delete(scratch, recursive: true);
        return seconds;
    }

    /// <summary>Converts the trained hub folder under <paramref name="folder"/> to ONNX, then writes the manifest that marks the folder complete.</summary>
    private static TinyCoCaModel ConvertAndWriteManifest(string folder, TinyCoCaRecipe recipe, double seconds, Action<string>? log)
    {
        var model = CoCaConverter.Convert(Path.Combine(folder, "trained"), Path.Combine(folder, "model"));
        log?.Invoke($"converted to ONNX: {model.Directory}");
        File.WriteAllText(Path.Combine(folder, "tiny-coca.json"), JsonSerializer.Serialize(new { recipe, trainingSeconds = seconds }, JsonOptions));
        return TryOpen(folder, recipe) ?? throw new InvalidOperationException($"The tiny CoCa made in '{folder}' cannot be read back.");
    }

    /// <summary>
    /// The tiny CoCa of <paramref name="recipe"/>, trained once and kept in <paramref name="cacheFolder"/> (default: the
    /// user's cache folder, <c>$XDG_CACHE_HOME/coca-mlnet</c> or <c>~/.cache/coca-mlnet</c>; the <c>COCA_MLNET_CACHE</c>
    /// variable overrides it), in a sub-folder named by a hash of the recipe and the architecture. Processes that ask at
    /// the same time train it once: a file lock lets one train while the others wait, and it is trained in a temporary
    /// folder and renamed into place when complete, so a killed run leaves no half-written model (its leftovers are
    /// deleted by the next run). <paramref name="log"/> gets what happens (and each epoch, when <paramref name="progress"/> is null).
    /// </summary>
    public static TinyCoCaModel Get(string? cacheFolder = null, TinyCoCaRecipe? recipe = null, IProgress<CoCaFineTuneProgress>? progress = null, Action<string>? log = null)
    {
        recipe ??= new TinyCoCaRecipe();
        progress ??= log is null ? null : new InlineProgress<CoCaFineTuneProgress>(p => log($"  {p}"));
        return TinyCoCaCache.GetOrMake(cacheFolder ?? DefaultCacheFolder(), CacheKey(recipe),
            open: folder => TryOpen(folder, recipe),
            train: partial => TrainWeights(partial, recipe, progress, log),
            complete: (final, seconds) => ConvertAndWriteManifest(final, recipe, seconds, log),
            log);
    }

    /// <summary>The default cache folder: <c>COCA_MLNET_CACHE</c>, else <c>$XDG_CACHE_HOME/coca-mlnet</c>, else <c>~/.cache/coca-mlnet</c>.</summary>
    public static string DefaultCacheFolder() => TinyCoCaCache.DefaultFolder();

    private static TinyCoCaModel? TryOpen(string folder, TinyCoCaRecipe recipe)
    {
        var manifest = Path.Combine(folder, "tiny-coca.json");
        if (!File.Exists(manifest)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        double seconds = doc.RootElement.GetProperty("trainingSeconds").GetDouble();
        return new TinyCoCaModel(folder, Path.Combine(folder, "trained"), Path.Combine(folder, "model"),
            Path.Combine(folder, "vocabulary", "vocab.json"), Path.Combine(folder, "train", "pairs.csv"), recipe, seconds);
    }

    // Everything that changes the trained weights: the recipe, the architecture, the vocabulary's words, the picture size.
    private static string CacheKey(TinyCoCaRecipe recipe) =>
        $"v2|{JsonSerializer.Serialize(recipe, JsonOptions)}|{OpenClipConfigWriter.ToJson(Config)}|{string.Join(' ', Words)}|{ImageSize}";

    // An explicit resolver: file-based apps turn reflection-based serialization off by default.
    private static readonly JsonSerializerOptions JsonOptions = new() { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };
}

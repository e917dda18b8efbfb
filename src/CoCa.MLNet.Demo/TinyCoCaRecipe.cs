using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Demo;

/// <summary>A tiny CoCa trained from scratch by <see cref="TinyCoCa"/>: where its files are and how it was made.</summary>
/// <param name="Folder">The folder holding everything below.</param>
/// <param name="HubFolder">The trained model in open_clip's hub layout (open_clip_config.json + open_clip_model.safetensors).</param>
/// <param name="ModelFolder">The same model converted to ONNX (<c>coca convert</c>): vision, text tower, caption decoder.</param>
/// <param name="VocabularyPath">The CLIP-format vocabulary (vocab.json with merges.txt beside it) its text towers read.</param>
/// <param name="TrainingPairsPath">The generated training pictures' pairs.csv.</param>
/// <param name="Recipe">How it was trained.</param>
/// <param name="TrainingSeconds">How long training took when the model was made.</param>
public sealed record TinyCoCaModel(string Folder, string HubFolder, string ModelFolder, string VocabularyPath, string TrainingPairsPath, TinyCoCaRecipe Recipe, double TrainingSeconds);

/// <summary>How the tiny CoCa is trained: generated captioned pictures, then <see cref="CoCaFineTuner"/> from scratch.</summary>
public sealed record TinyCoCaRecipe
{
    /// <summary>Generated training pictures (colour × shape × place, 64 possible captions).</summary>
    public int Pictures { get; init; } = 512;
    public int Epochs { get; init; } = 14;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 3e-3;
    public double WarmupFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.05;
    /// <summary>Seed of the weights' initialisation and of the shuffling.</summary>
    public int Seed { get; init; }
    /// <summary>Seed of the generated training pictures.</summary>
    public int DataSeed { get; init; } = 1;
    /// <summary>bfloat16 mixed precision while training (the trained weights are float32 either way). Left out of the cache key when Float32, so the default recipe keeps its cache.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;
}

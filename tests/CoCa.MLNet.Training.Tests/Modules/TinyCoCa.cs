using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Training.Tests.Modules;

/// <summary>The tiny open_clip CoCa of ../shared/fixtures (config written out by hand, as in its open_clip_config.json).</summary>
internal static class TinyCoCa
{
    public static CoCaModelConfig Config { get; } = new()
    {
        EmbedDim = 48,
        Vision = new VisionConfig { ImageSize = 64, Layers = 2, Width = 64, PatchSize = 16, AttnPoolerQueries = 8, AttnPoolerHeads = 4 },
    };

    private static readonly Lazy<StateDict> LazyStateDict = new(() => SafetensorsReader.Read(Fixtures.Tiny("open_clip_model.safetensors")));

    /// <summary>The fixture checkpoint (read once; tests must not mutate it).</summary>
    public static StateDict StateDict => LazyStateDict.Value;

    /// <summary>A copy of the checkpoint with <paramref name="change"/> applied to its tensor list.</summary>
    public static StateDict Modified(Func<IEnumerable<CheckpointTensor>, IEnumerable<CheckpointTensor>> change) =>
        new(change(StateDict.Values), StateDict.Source + " (modified)");
}

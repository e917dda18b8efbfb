using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Demo;

/// <summary>
/// A stand-in for a domain shift in the walkthroughs: a copy of a CoCa checkpoint whose patch embedding
/// (<c>visual.conv1.weight</c>) sees only the mean of the three colour channels, as an encoder pretrained on greyscale
/// pictures (X-rays, microscope slides) would. Its frozen tokens cannot tell colours of equal brightness apart; a
/// classifier that must (e.g. the colour of the generated captioned pictures) needs the encoder fine-tuned.
/// </summary>
public static class GreyscaleEncoder
{
    /// <summary>Writes the copy of the open_clip hub folder <paramref name="hubFolder"/> into <paramref name="folder"/>; returns it.</summary>
    public static string Copy(string hubFolder, string folder)
    {
        var loaded = CheckpointLoader.Load(hubFolder);
        var config = loaded.Config ?? throw new ArgumentException($"'{hubFolder}' has no open_clip_config.json.", nameof(hubFolder));
        Average(loaded.Weights, config);
        Directory.CreateDirectory(folder);
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointLoader.HubSafetensorsFile), loaded.Weights);
        OpenClipConfigWriter.Write(config, folder);
        return folder;
    }

    /// <summary>Replaces each patch-embedding filter's R, G and B weights by their mean, in place.</summary>
    internal static void Average(StateDict weights, CoCaModelConfig config)
    {
        var conv = weights["visual.conv1.weight"].Data;   // [W, 3, P, P]
        int perChannel = config.Vision.PatchSize * config.Vision.PatchSize;
        for (int w = 0; w < conv.Length; w += 3 * perChannel)
            for (int i = 0; i < perChannel; i++)
            {
                float mean = (conv[w + i] + conv[w + perChannel + i] + conv[w + 2 * perChannel + i]) / 3;
                conv[w + i] = conv[w + perChannel + i] = conv[w + 2 * perChannel + i] = mean;
            }
    }
}

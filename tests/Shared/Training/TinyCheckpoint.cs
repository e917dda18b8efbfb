using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>Random tiny checkpoints for the fine-tuned classifier's tests (the trainer's and <c>coca train --checkpoint</c>'s).</summary>
internal static class TinyCheckpoint
{
    /// <summary>A random tiny CoCa (the kit's 32² architecture) in open_clip's hub layout.</summary>
    public static string RandomCheckpoint(string dir, int seed = 3)
    {
        var folder = Path.Combine(dir, "checkpoint");
        Directory.CreateDirectory(folder);
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointLoader.HubSafetensorsFile), RandomCoCaCheckpoint.Create(TinyCoCa.Config, seed, includeText: false));
        OpenClipConfigWriter.Write(TinyCoCa.Config, folder);
        return folder;
    }
}

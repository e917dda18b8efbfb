using CoCa.MLNet.Cli.Features;
using System.Text.Json;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// The TorchSharp half of the caption fixture: the fixtures' two open_clip CoCas (<see cref="Folder"/>,
/// <see cref="Fixtures.TinyCoCa"/>) as whole TorchSharp models, and their batch of six images and captions.
/// </summary>
internal static partial class CaptionFixture
{
    public static string File(string folder, string relative) => Path.Combine(folder, relative);

    public static CoCaModel Load(string folder) => CoCaCheckpointFolder.Load(folder);

    /// <summary>The six images in reference.json order, through open_clip's eval preprocessing: [6, 3, S, S].</summary>
    public static Tensor Pixels(string folder, CoCaModelConfig config)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File(folder, "reference.json")));
        var names = doc.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var preprocessor = new CoCaImagePreprocessor(config.Preprocess);
        var data = new float[names.Length * preprocessor.OutputLength];
        for (int i = 0; i < names.Length; i++)
            preprocessor.Preprocess(File(folder, Path.Combine("images", names[i])), data.AsSpan(i * preprocessor.OutputLength, preprocessor.OutputLength));
        return torch.tensor(data, [names.Length, 3, config.Vision.ImageSize, config.Vision.ImageSize]);
    }

    public static Tensor TextIds(string folder)
    {
        var ids = Npy.ReadInt64(File(folder, "ref_text_ids.npy"));
        return torch.tensor(ids.Data, ids.Shape);
    }

    public static NpyArray<float> Reference(string folder, string name) => Npy.ReadFloat32(File(folder, name));

    public static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();
}

using CoCa.MLNet.Cli.Features;
using System.Text.Json;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;

namespace CoCa.MLNet.Tests.Captioning;

/// <summary>open_clip's generated captions for the six fixture images (ref_captions.json) and the fixture's decoder.</summary>
internal static class CaptionReference
{
    public sealed record Captions(string[] Images, long[][] Greedy, long[][] Beam, string[] GreedyText, string[] BeamText);

    public static readonly Lazy<Captions> Expected = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(CaptionFixture.File("ref_captions.json")));
        var root = doc.RootElement;
        static long[][] Ids(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        static string[] Texts(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();
        return new Captions(Texts(root.GetProperty("images")), Ids(root.GetProperty("greedy")), Ids(root.GetProperty("beam")),
            Texts(root.GetProperty("greedy_text")), Texts(root.GetProperty("beam_text")));
    });

    public static readonly Lazy<LoadedCheckpoint> Checkpoint = new(() => CheckpointLoader.Load(CaptionFixture.Folder));

    /// <summary>The decoder written from the fixture checkpoint (two threads).</summary>
    public static readonly Lazy<CoCaCaptionDecoder> Decoder = new(() =>
    {
        var cp = Checkpoint.Value;
        var (image, step) = CaptionDecoderOnnx.CreateGraphs(cp.Config!, cp.Weights);
        return new CoCaCaptionDecoder(image.ToBytes(), step.ToBytes(), cp.Config!, new CoCa.MLNet.Runtime.OnnxExecutionOptions { IntraOpNumThreads = 2 });
    });

    /// <summary>The caption fixture converted once per test run (vision, text, caption decoder).</summary>
    public static readonly Lazy<string> ModelDirectory = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "coca-mlnet-tests", "caption-" + Environment.ProcessId);
        Conversion.CoCaConverter.Convert(CaptionFixture.Folder, dir);
        return dir;
    });

    /// <summary>The six fixture images in reference order.</summary>
    public static string[] ImagePaths() => Expected.Value.Images.Select(i => CaptionFixture.File(Path.Combine("images", i))).ToArray();

    /// <summary>open_clip's caption tokens [6, 8, 32] of the fixture images.</summary>
    public static float[] CaptionTokens() => Npy.ReadFloat32(CaptionFixture.File("ref_caption_tokens.npy")).Data;
}

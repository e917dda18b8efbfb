using CoCa.MLNet.Cli.Features;
using System.Text.Json;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// The captioning fixture <c>open_clip_coca_caption</c> (text width = multimodal width = embed_dim = 32): its folder,
/// open_clip's generated captions of its six images (ref_captions.json) and its converted decoder. The TorchSharp half
/// (the whole model, its pixels and text ids) is in Training/CaptionFixture.Torch.cs, for the projects with training.
/// </summary>
internal static partial class CaptionFixture
{
    public static string Folder => Path.Combine(Fixtures.Root, "open_clip_coca_caption");

    public static string File(string relative) => Path.Combine(Folder, relative);

    public static bool Available => Directory.Exists(Folder);

    public sealed record Captions(string[] Images, long[][] Greedy, long[][] Beam, string[] GreedyText, string[] BeamText);

    public static readonly Lazy<Captions> Expected = new(() =>
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File("ref_captions.json")));
        var root = doc.RootElement;
        static long[][] Ids(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        static string[] Texts(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();
        return new Captions(Texts(root.GetProperty("images")), Ids(root.GetProperty("greedy")), Ids(root.GetProperty("beam")),
            Texts(root.GetProperty("greedy_text")), Texts(root.GetProperty("beam_text")));
    });

    public static readonly Lazy<LoadedCheckpoint> Checkpoint = new(() => CheckpointLoader.Load(Folder));

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
        CoCa.MLNet.Conversion.CoCaConverter.Convert(Folder, dir);
        return dir;
    });

    /// <summary>The six fixture images in reference order.</summary>
    public static string[] ImagePaths() => Expected.Value.Images.Select(i => File(Path.Combine("images", i))).ToArray();

    /// <summary>open_clip's caption tokens [6, 8, 32] of the fixture images.</summary>
    public static float[] CaptionTokens() => Npy.ReadFloat32(File("ref_caption_tokens.npy")).Data;
}

/// <summary>A fact that needs ../shared/fixtures/open_clip_coca_caption; skipped, with the reason, where it is absent.</summary>
public sealed class CaptionFixtureFactAttribute : FactAttribute
{
    public CaptionFixtureFactAttribute()
    {
        Skip = Fixtures.SkipUnless(CaptionFixture.Available, CaptionFixture.Folder);
    }
}

/// <summary>A theory that needs ../shared/fixtures/open_clip_coca_caption.</summary>
public sealed class CaptionFixtureTheoryAttribute : TheoryAttribute
{
    public CaptionFixtureTheoryAttribute()
    {
        Skip = Fixtures.SkipUnless(CaptionFixture.Available, CaptionFixture.Folder);
    }
}

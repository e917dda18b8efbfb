using System.Text.Json;
using CoCa.MLNet.Tests.Captioning;

namespace CoCa.MLNet.Tests.Cli;

/// <summary><c>coca convert</c> writes the caption decoder; <c>coca caption</c> gives open_clip's captions of the six fixture images.</summary>
public class CaptionCliTests
{
    [CaptionFixtureFact]
    public void CaptionGivesOpenClipsGreedyAndBeamCaptions()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-caption-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            var convert = CliProcess.Run("convert", CaptionFixture.Folder, "--out", model);
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            Assert.Contains("caption: caption_image.onnx + caption_step.onnx", convert.StdOut);

            var expected = CaptionReference.Expected.Value;
            var images = CaptionFixture.File("images");   // a folder: files sorted by name = reference.json's order

            // Greedy, printed: path<TAB>caption per image.
            var greedy = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--threads", "2", images);
            Assert.True(greedy.ExitCode == 0, greedy.StdErr);
            var lines = greedy.StdOut.TrimEnd('\n').Split('\n');
            Assert.Equal(6, lines.Length);
            for (int i = 0; i < 6; i++)
                Assert.Equal($"{Path.Combine(images, expected.Images[i])}\t{expected.GreedyText[i]}", lines[i]);

            // Beam search (the default), as JSON lines.
            var jsonl = Path.Combine(dir.FullName, "captions.jsonl");
            var beam = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--batch-size", "4", "--out", jsonl, images);
            Assert.True(beam.ExitCode == 0, beam.StdErr);
            var rows = File.ReadAllLines(jsonl);
            Assert.Equal(6, rows.Length);
            for (int i = 0; i < 6; i++)
            {
                using var doc = JsonDocument.Parse(rows[i]);
                var row = doc.RootElement;
                Assert.Equal(Path.Combine(images, expected.Images[i]), row.GetProperty("input").GetString());
                Assert.Equal(expected.BeamText[i], row.GetProperty("text").GetString());
                Assert.Equal(expected.Beam[i], row.GetProperty("ids").EnumerateArray().Select(x => x.GetInt64()).ToArray());
            }
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void ACheckpointThatCannotCaptionSaysWhy()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-caption-tiny-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            var convert = CliProcess.Run("convert", Fixtures.TinyCoCa, "--out", model);
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            Assert.Contains("caption: none (CoCa", convert.StdOut);
            Assert.False(File.Exists(Path.Combine(model, "caption_step.onnx")));

            var run = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, Fixtures.Tiny("images"));
            Assert.Equal(1, run.ExitCode);
            Assert.Single(run.StdErr.Trim().Split('\n'));
            Assert.Contains("text width 16, multimodal width 16 and embed_dim 48", run.StdErr);

            var bad = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "sideways", Fixtures.Tiny("images"));
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("sideways", bad.StdErr);
        }
        finally { dir.Delete(true); }
    }
}

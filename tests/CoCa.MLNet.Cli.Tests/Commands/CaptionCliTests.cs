using System.Text.Json;

namespace CoCa.MLNet.Cli.Tests.Commands;

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

            var expected = CaptionFixture.Expected.Value;
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

    [CaptionFixtureFact]
    public void UnreadableAndMissingImages_AreNamedOneLineEach_AndTheOthersStillCaptioned()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-caption-bad-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            Assert.Equal(0, CliProcess.Run("convert", CaptionFixture.Folder, "--out", model).ExitCode);
            var expected = CaptionFixture.Expected.Value;
            var good = expected.Images.Select(name => Path.Combine(CaptionFixture.File("images"), name)).ToArray();
            var corrupt = Path.Combine(dir.FullName, "corrupt.png");
            File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
            var missing = Path.Combine(dir.FullName, "missing.png");
            // The corrupt image shares a batch of 4 with good ones: they are still captioned, each as on its own.
            string[] inputs = [good[0], corrupt, good[1], good[2], missing, good[3], good[4], good[5]];

            var jsonl = Path.Combine(dir.FullName, "captions.jsonl");
            var run = CliProcess.Run(["caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--batch-size", "4", "--out", jsonl, .. inputs]);
            Assert.True(run.ExitCode == 1, run.StdOut + run.StdErr);
            var errors = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, errors.Length);
            Assert.All(errors, e => Assert.StartsWith("coca: ", e));
            Assert.Contains(errors, e => e.Contains($"'{missing}' does not exist"));
            Assert.Contains(errors, e => e.Contains($"'{corrupt}'") && e.Contains("expected"));
            var rows = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(good, rows.Select(r => r.GetProperty("input").GetString()));
            Assert.Equal(expected.GreedyText, rows.Select(r => r.GetProperty("text").GetString()));
            Assert.Contains("6 captions; 2 unreadable inputs left out", run.StdOut);

            // Printed (no --out): the same captions, path<TAB>caption, and the same two lines on stderr.
            var printed = CliProcess.Run(["caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--batch-size", "4", .. inputs]);
            Assert.Equal(1, printed.ExitCode);
            Assert.Equal(good.Select((g, i) => $"{g}\t{expected.GreedyText[i]}"), printed.StdOut.TrimEnd('\n').Split('\n'));
            Assert.Equal(2, printed.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));
        }
        finally { dir.Delete(true); }
    }

    [CaptionFixtureFact]
    public void OutIsWrittenBesideItsNameAndRenamedWhenComplete_AKilledRunLeavesTheOldFile_AndTheNextRunRemovesItsTemporaryFile()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-caption-out-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            Assert.Equal(0, CliProcess.Run("convert", CaptionFixture.Folder, "--out", model).ExitCode);
            var jsonl = Path.Combine(dir.FullName, "captions.jsonl");
            File.WriteAllText(jsonl, "captions of an earlier run\n");
            var images = Directory.GetFiles(CaptionFixture.File("images")).Order(StringComparer.Ordinal).ToArray();

            // A run held on its second image (a pipe nobody writes to) and killed there.
            var stuck = StuckInput.Create(Path.Combine(dir.FullName, "stuck.png"));
            using (var run = CliProcess.Start("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--batch-size", "1", "--out", jsonl, images[0], stuck, images[1]))
            {
                var temporary = StuckInput.WaitForFile(run, dir.FullName, ".captions.jsonl.*.tmp");
                Assert.Equal("captions of an earlier run\n", File.ReadAllText(jsonl));   // nothing written at the final name yet
                StuckInput.Kill(run);
                Assert.True(File.Exists(temporary));
            }
            Assert.Equal("captions of an earlier run\n", File.ReadAllText(jsonl));

            // Nothing readable: nothing to write, the old file stays.
            var none = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--out", jsonl, Path.Combine(dir.FullName, "gone.png"));
            Assert.Equal(1, none.ExitCode);
            Assert.Equal("captions of an earlier run\n", File.ReadAllText(jsonl));

            // A complete run replaces it.
            var done = CliProcess.Run("caption", "--model", model, "--vocab", Fixtures.ClipBpe, "--decoding", "greedy", "--out", jsonl, images[0], images[1]);
            Assert.True(done.ExitCode == 0, done.StdErr);
            Assert.Equal(2, File.ReadAllLines(jsonl).Length);
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));   // the killed run's was left behind for good
        }
        finally { dir.Delete(true); }
    }
}

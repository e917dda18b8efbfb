using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli.Tests.Commands;

public class EmbedTextCliTests
{
    [FixtureFact]
    public void ConvertWritesTheTextTowerAndEmbedTextReproducesOpenClip()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-text-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            var convert = CliProcess.Run("convert", Fixtures.TinyCoCa, "--out", model);
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            Assert.Contains("text:   text.onnx", convert.StdOut);
            Assert.True(File.Exists(Path.Combine(model, "text.onnx")));

            var captions = File.ReadAllLines(Fixtures.Tiny("captions.txt"));
            var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_text_embedding.npy")).Data;
            var outFile = Path.Combine(dir.FullName, "text.npy");
            var run = CliProcess.Run(["embed-text", "--model", model, "--vocab", Fixtures.ClipBpe, "--out", outFile, "--batch-size", "4", .. captions]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            Assert.Contains("[6, 48]", run.StdOut);
            var got = Npy.ReadFloat32(outFile);
            Assert.Equal(new long[] { 6, 48 }, got.Shape);
            Fixtures.AssertRowsClose(got.Data, expected, 6, 1e-4, "coca embed-text");

            // The same texts from a file, one per line.
            var fromFile = Path.Combine(dir.FullName, "text-file.npy");
            run = CliProcess.Run("embed-text", "--model", model, "--vocab", Fixtures.ClipBpe, "--out", fromFile, "--file", Fixtures.Tiny("captions.txt"));
            Assert.True(run.ExitCode == 0, run.StdErr);
            Assert.Equal(got.Data, Npy.ReadFloat32(fromFile).Data);
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void MissingVocabularyOrNoTextsEndWithOneClearLine()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-text-bad-");
        try
        {
            var outFile = Path.Combine(dir.FullName, "out.npy");
            var noVocab = CliProcess.Run("embed-text", "--model", TinyModel.Directory, "--vocab", Path.Combine(dir.FullName, "nope.txt.gz"), "--out", outFile, "a cat");
            Assert.Equal(2, noVocab.ExitCode);   // a file that must exist: checked at parse time
            Assert.Contains("nope.txt.gz", noVocab.StdErr);
            Assert.Single(noVocab.StdErr.Trim().Split('\n'));
            Assert.False(File.Exists(outFile));

            var nothing = CliProcess.Run("embed-text", "--model", TinyModel.Directory, "--vocab", Fixtures.ClipBpe, "--out", outFile);
            Assert.Equal(2, nothing.ExitCode);
            Assert.Contains("Nothing to embed", nothing.StdErr);
        }
        finally { dir.Delete(true); }
    }
}

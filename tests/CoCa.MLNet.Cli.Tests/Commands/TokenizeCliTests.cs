using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli.Tests.Commands;

public class TokenizeCliTests
{
    [FixtureFact]
    public void TokenizeWritesOpenClipsIdsAsInt64Npy()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-tok-");
        try
        {
            var captions = File.ReadAllLines(Fixtures.Tiny("captions.txt"));
            var output = Path.Combine(dir.FullName, "ids.npy");
            var run = CliProcess.Run(["tokenize", "--vocab", Fixtures.ClipBpe, "--out", output, .. captions]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            var ids = Npy.ReadInt64(output);
            var expected = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
            Assert.Equal(expected.Shape, ids.Shape);
            Assert.Equal(expected.Data, ids.Data);
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void TokenizePrintsRowsWithoutOut()
    {
        var run = CliProcess.Run("tokenize", "--vocab", Fixtures.ClipBpe, "--context-length", "8", "a photo of a cat", "");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Equal(["49406 320 1125 539 320 2368 49407 0", "49406 49407 0 0 0 0 0 0"], run.StdOut.Trim().Split('\n').Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void MissingVocabIsOneClearLine()
    {
        var missing = Path.Combine(Path.GetTempPath(), "coca-no-such-vocab-" + Guid.NewGuid().ToString("N") + ".txt.gz");
        var run = CliProcess.Run("tokenize", "--vocab", missing, "a cat");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(missing, run.StdErr);
        Assert.Single(run.StdErr.Trim().Split('\n'));
    }
}

using CoCa.MLNet.IO;

namespace CoCa.MLNet.Tests.Cli;

public class ConvertAndFeaturizeCliTests
{
    [FixtureFact]
    public void ConvertThenFeaturizeReproducesOpenClip()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-");
        try
        {
            var model = Path.Combine(dir.FullName, "model");
            var convert = CliProcess.Run("convert", Fixtures.TinyCoCa, "--out", model);
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            Assert.True(File.Exists(Path.Combine(model, "vision.onnx")));
            Assert.True(File.Exists(Path.Combine(model, "coca.json")));

            var images = TinyModel.ImagePaths();
            var tokens = Path.Combine(dir.FullName, "tokens.npy");
            var run = CliProcess.Run(["featurize", "--model", model, "--images", .. images, "--output", "tokens", "--out", tokens, "--batch-size", "4"]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            var got = Npy.ReadFloat32(tokens);
            Assert.Equal(new long[] { 6, 17, 64 }, got.Shape);
            Fixtures.AssertRowsClose(got.Data, Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy")).Data, 6, 1e-4, "coca featurize tokens");
            Assert.Equal(images, File.ReadAllLines(tokens + ".txt"));

            // A folder: its images sorted by name, which is the fixture's order.
            var embedding = Path.Combine(dir.FullName, "embedding.npy");
            run = CliProcess.Run("featurize", "--model", model, "--images", Fixtures.Tiny("images"), "--output", "embedding", "--out", embedding);
            Assert.True(run.ExitCode == 0, run.StdErr);
            Fixtures.AssertRowsClose(Npy.ReadFloat32(embedding).Data, Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data, 6, 1e-4, "coca featurize embedding");
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void BadInputEndsWithOneClearLineAndNoOutputFile()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-bad-");
        try
        {
            var output = Path.Combine(dir.FullName, "out.npy");
            var missingModel = CliProcess.Run("featurize", "--model", Path.Combine(dir.FullName, "nope"), "--images", Fixtures.Tiny("images"), "--out", output);
            Assert.NotEqual(0, missingModel.ExitCode);
            Assert.Contains("nope", missingModel.StdErr);
            Assert.Single(missingModel.StdErr.Trim().Split('\n'));

            var corrupt = Path.Combine(dir.FullName, "corrupt.png");
            File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
            var badImage = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", corrupt, "--out", output);
            Assert.NotEqual(0, badImage.ExitCode);
            Assert.Contains("corrupt.png", badImage.StdErr);
            Assert.False(File.Exists(output));
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));

            var wrongConfig = CliProcess.Run("convert", Fixtures.TinyCoCa, "--out", Path.Combine(dir.FullName, "m"), "--model", "coca_ViT-B-32");
            Assert.NotEqual(0, wrongConfig.ExitCode);
            Assert.Contains("visual.", wrongConfig.StdErr);
        }
        finally { dir.Delete(true); }
    }
}

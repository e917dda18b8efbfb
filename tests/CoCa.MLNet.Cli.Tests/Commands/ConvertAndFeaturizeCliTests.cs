using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli.Tests.Commands;

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

            // --device cuda where CUDA cannot run (the CPU build of ONNX Runtime): the same numbers from the CPU, and a
            // line that says so rather than a quiet fallback.
            if (!CoCa.MLNet.Runtime.OnnxSessions.CudaAvailable)
            {
                run = CliProcess.Run("featurize", "--model", model, "--images", Fixtures.Tiny("images"), "--output", "embedding", "--out", embedding, "--device", "cuda");
                Assert.True(run.ExitCode == 0, run.StdErr);
                Assert.Equal(["coca: note: --device cuda:0: CUDA cannot be used here (it needs coca's GPU build, -p:OnnxRuntime=Gpu, and CUDA 13); running on the CPU."],
                    run.StdErr.Split('\n').Where(l => l.StartsWith("coca:", StringComparison.Ordinal)));
                Fixtures.AssertRowsClose(Npy.ReadFloat32(embedding).Data, Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data, 6, 1e-4, "coca featurize --device cuda");
            }
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void AnOutNamedParquet_IsWrittenAsParquet_AndAFormatThatContradictsItsNameIsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-format-");
        try
        {
            string[] featurize = ["featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images"), "--output", "embedding"];
            // No --format: the name says Parquet, so Parquet it is (it was NumPy bytes under a .parquet name, plus a .parquet.txt).
            var parquet = Path.Combine(dir.FullName, "features.parquet");
            var run = CliProcess.Run([.. featurize, "--out", parquet]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            var info = FeatureParquet.ReadInfo(parquet);
            Assert.Equal(6, info.Rows);
            Assert.False(File.Exists(parquet + ".txt"));
            var npy = Path.Combine(dir.FullName, "features.npy");
            Assert.Equal(0, CliProcess.Run([.. featurize, "--out", npy]).ExitCode);
            Assert.Equal(new long[] { 6, 48 }, Npy.ReadShape(npy));

            // A --format that contradicts the name: a usage error naming both, before any work.
            foreach (var (format, name) in new[] { ("npy", "other.parquet"), ("parquet", "other.npy") })
            {
                var refused = CliProcess.Run([.. featurize, "--format", format, "--out", Path.Combine(dir.FullName, name)]);
                Assert.Equal(2, refused.ExitCode);
                var line = Assert.Single(refused.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.Contains($"--format is {format}", line);
                Assert.Contains(name, line);
                Assert.False(File.Exists(Path.Combine(dir.FullName, name)));
            }
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

    [FixtureFact]
    public void UnreadableAndMissingInputs_AreNamedOneLineEach_AndTheReadableOnesFeaturized()
    {
        var dir = Directory.CreateTempSubdirectory("coca-cli-keep-going-");
        try
        {
            var images = TinyModel.ImagePaths();
            var corrupt = Path.Combine(dir.FullName, "corrupt.png");
            File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
            var empty = Path.Combine(dir.FullName, "empty.jpg");
            File.WriteAllBytes(empty, []);
            var missing = Path.Combine(dir.FullName, "missing.png");
            // Batches of 4: the bad inputs sit among good ones, in the first and the second batch.
            string[] inputs = [images[0], corrupt, images[1], images[2], images[3], missing, empty, images[4], images[5]];
            var expected = Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy")).Data;

            var tokens = Path.Combine(dir.FullName, "tokens.npy");
            var run = CliProcess.Run(["featurize", "--model", TinyModel.Directory, "--images", .. inputs, "--batch-size", "4", "--out", tokens]);
            Assert.True(run.ExitCode == 1, run.StdOut + run.StdErr);
            var errors = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("coca: ", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, errors.Count);
            Assert.Contains(errors, e => e.Contains($"'{missing}' does not exist"));
            Assert.Contains(errors, e => e.Contains($"'{corrupt}'"));
            Assert.Contains(errors, e => e.Contains($"'{empty}'") && e.Contains("0 bytes"));
            Assert.Contains("(3 inputs left out, named above)", run.StdOut);
            var got = Npy.ReadFloat32(tokens);
            Assert.Equal(new long[] { 6, 17, 64 }, got.Shape);
            Fixtures.AssertRowsClose(got.Data, expected, 6, 1e-4, "the readable inputs' tokens");
            Assert.Equal(images, File.ReadAllLines(tokens + ".txt"));

            // Parquet: the rows of the readable inputs; the file says one more input of its run could not be read.
            var parquet = Path.Combine(dir.FullName, "tokens.parquet");
            run = CliProcess.Run(["featurize", "--model", TinyModel.Directory, "--images", images[0], corrupt, images[1], "--format", "parquet", "--out", parquet]);
            Assert.Equal(1, run.ExitCode);
            var view = new FeatureShardsDataView(parquet);
            Assert.Equal(2, view.GetRowCount());
            Assert.Equal(1, view.UnreadableInputs);
            Assert.Equal([images[0], images[1]], FeatureParquet.ReadPaths(parquet));
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void A16BitGreyscalePng_IsFeaturizedAsOpenClipDoes_WithOneLineSayingItCameOutNearWhite()
    {
        // open_clip (PIL) clips such a picture's values above 255 to white; the numbers stay open_clip's, and the
        // user hears of it once, at the end, instead of never.
        var grey16 = Path.Combine(Fixtures.RepoRoot, "tests", "CoCa.MLNet.Tests", "Preprocessing", "Data", "grey16.png");
        var dir = Directory.CreateTempSubdirectory("coca-cli-grey16-");
        try
        {
            var images = Directory.GetFiles(Fixtures.Tiny("images")).Order(StringComparer.Ordinal).Take(2).Append(grey16).ToArray();
            var run = CliProcess.Run(["featurize", "--model", TinyModel.Directory, "--images", .. images, "--out", Path.Combine(dir.FullName, "e.npy"), "--output", "embedding"]);
            Assert.True(run.ExitCode == 0, run.StdErr);
            var note = Assert.Single(run.StdErr.Split('\n'), l => l.StartsWith("coca:", StringComparison.Ordinal));
            Assert.StartsWith($"coca: note: '{grey16}' is a 16-bit greyscale PNG: open_clip's preprocessing (PIL) clips its values", note.Replace("their values", "its values"));

            var plain = CliProcess.Run(["featurize", "--model", TinyModel.Directory, "--images", .. images[..2], "--out", Path.Combine(dir.FullName, "p.npy"), "--output", "embedding"]);
            Assert.True(plain.ExitCode == 0, plain.StdErr);
            Assert.DoesNotContain("coca:", plain.StdErr);
        }
        finally { dir.Delete(true); }
    }
}

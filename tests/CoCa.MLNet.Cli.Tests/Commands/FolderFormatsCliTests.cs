using CoCa.MLNet.Cli.Features;
using System.Diagnostics;
using BitMiracle.LibTiff.Classic;
using CoCa.MLNet.IO;
using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary>
/// Folder inputs: TIFF images and every common video container are read; image files in formats coca cannot read make
/// the folder an error listing them (or, with --skip-unreadable, a warning naming them), never a silent skip.
/// </summary>
public sealed class FolderFormatsCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("coca-cli-formats-");

    public void Dispose() => _dir.Delete(recursive: true);

    [FixtureFact]
    public void ImageFolder_ReadsTiff_AndRefusesOrSkipsUnreadableFormatsByName()
    {
        var folder = Path.Combine(_dir.FullName, "images");
        Directory.CreateDirectory(folder);
        var png = TinyModel.ImagePaths()[0];
        File.Copy(png, Path.Combine(folder, "a.png"));
        var rgb = ImageDecoder.Decode(png);
        File.WriteAllBytes(Path.Combine(folder, "b.tif"), TiffFiles.Write(rgb.Width, rgb.Height, 3, rgb.Pixels, Compression.LZW, Photometric.RGB));
        var output = Path.Combine(_dir.FullName, "tokens.npy");

        var run = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", folder, "--out", output);
        Assert.True(run.ExitCode == 0, run.StdErr);
        var tokens = Npy.ReadFloat32(output);
        Assert.Equal(2, tokens.Shape[0]);
        int row = tokens.Data.Length / 2;
        Assert.Equal(tokens.Data.AsSpan(0, row).ToArray(), tokens.Data.AsSpan(row, row).ToArray());   // the TIFF is the PNG's pixels

        File.WriteAllBytes(Path.Combine(folder, "c.jp2"), [0, 0, 0, 12, (byte)'j', (byte)'P', 32, 32]);
        File.WriteAllBytes(Path.Combine(folder, "d.heic"), [1, 2, 3]);
        File.Delete(output);
        var refused = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", folder, "--out", output);
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("c.jp2, d.heic", line);
        Assert.Contains("--skip-unreadable", line);
        Assert.False(File.Exists(output));

        var skipped = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", folder, "--out", output, "--skip-unreadable");
        Assert.True(skipped.ExitCode == 0, skipped.StdErr);
        Assert.Contains("warning: skipping 2 image file(s)", skipped.StdErr);
        Assert.Contains("c.jp2, d.heic", skipped.StdErr);
        Assert.Equal(2, Npy.ReadFloat32(output).Shape[0]);
    }

    [FixtureFact]
    public void VideoFolder_ReadsEveryCommonContainer()
    {
        var folder = Path.Combine(_dir.FullName, "videos");
        Directory.CreateDirectory(folder);
        string[] containers = ["ts", "3gp", "flv", "wmv", "mkv", "mov"];
        foreach (var ext in containers)
        {
            var psi = new ProcessStartInfo("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=128x96:rate=5", "-t", "1", Path.Combine(folder, "clip." + ext)])
                { RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        var output = Path.Combine(_dir.FullName, "clips.npy");
        var run = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--video", "--frames", "2", "--images", folder, "--out", output, "--output", "embedding");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Equal(containers.Length, Npy.ReadFloat32(output).Shape[0]);
        Assert.Equal(containers.Select(e => "clip." + e).Order(StringComparer.Ordinal), File.ReadAllLines(output + ".txt").Select(Path.GetFileName));
    }
}

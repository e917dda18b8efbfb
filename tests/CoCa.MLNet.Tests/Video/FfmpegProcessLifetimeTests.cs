using CoCa.MLNet.Demo;
using System.Diagnostics;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Video;

/// <summary>
/// ffmpeg misbehaving — hanging, garbling its output, failing — played by shell scripts that record their pid, so the
/// tests can check that the child is killed and reaped (no zombie left in /proc).
/// </summary>
public class FfmpegProcessLifetimeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AHangingDecoderIsKilledAtTheTimeoutAndReaped()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, pidFile) = FakeFfmpeg("exec sleep 60");
        var reader = new VideoReader(new VideoReaderOptions { FfmpegPath = fake, Timeout = TimeSpan.FromMilliseconds(1500) });

        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<VideoDecodingException>(() => reader.SampleFrames(video));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Contains(video, e.Message);
        Assert.Contains("timeout", e.Message);
        AssertGone(pidFile);
    }

    [Fact]
    public void CancellationKillsTheDecoder()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, pidFile) = FakeFfmpeg("exec sleep 60");
        var reader = new VideoReader(new VideoReaderOptions { FfmpegPath = fake });
        var info = reader.Probe(video); // probe first: the cancellation is meant to hit the decoder
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));

        Assert.ThrowsAny<OperationCanceledException>(() => reader.SampleFrames(info, 16, cancel.Token));
        AssertGone(pidFile);
    }

    [Fact]
    public void GarbledDecoderOutputFailsAtOnceAndStopsTheDecoder()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, pidFile) = FakeFfmpeg("printf 'XYZ garbage'; exec sleep 60");
        var reader = new VideoReader(new VideoReaderOptions { FfmpegPath = fake, Timeout = TimeSpan.FromSeconds(30) });

        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<VideoDecodingException>(() => reader.SampleFrames(video));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Contains("malformed", e.Message);
        Assert.Contains(video, e.Message);
        AssertGone(pidFile);
    }

    [Fact]
    public void OutputEndingInsideAFrameIsReported()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, _) = FakeFfmpeg("printf 'P6\\n4 4\\n255\\nabcde'");
        var e = Assert.Throws<VideoDecodingException>(() => new VideoReader(new VideoReaderOptions { FfmpegPath = fake }).SampleFrames(video));
        Assert.Contains("ended inside a 4x4 frame (5 of 48 bytes)", e.Message);
    }

    [Fact]
    public void AReadTornByTheTimeoutReportsTheTimeout()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, pidFile) = FakeFfmpeg("printf 'P6\\n4 4\\n255\\nabcde'; exec sleep 60");
        var reader = new VideoReader(new VideoReaderOptions { FfmpegPath = fake, Timeout = TimeSpan.FromMilliseconds(1500) });
        var e = Assert.Throws<VideoDecodingException>(() => reader.SampleFrames(video));
        Assert.Contains("timeout", e.Message);
        AssertGone(pidFile);
    }

    [Fact]
    public void DecoderFailureReportsFfmpegsMessage()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var (fake, _) = FakeFfmpeg("echo 'Decoder exploded' >&2; exit 3");
        var e = Assert.Throws<VideoDecodingException>(() => new VideoReader(new VideoReaderOptions { FfmpegPath = fake }).SampleFrames(video));
        Assert.Contains("exited with code 3", e.Message);
        Assert.Contains("Decoder exploded", e.Message);
        Assert.Contains(video, e.Message);
    }

    // A stand-in for ffmpeg: a shell script that records its pid and then runs `body`.
    private (string Path, string PidFile) FakeFfmpeg(string body)
    {
        string name = "fake-ffmpeg-" + Guid.NewGuid().ToString("N")[..8];
        string script = _temp.File(name + ".sh"), pidFile = _temp.File(name + ".pid");
        File.WriteAllText(script, $"#!/bin/sh\necho $$ > '{pidFile}'\n{body}\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return (script, pidFile);
    }

    // The fake's process no longer exists: killed and reaped (a zombie would still have /proc/<pid>).
    private static void AssertGone(string pidFile)
    {
        int pid = int.Parse(File.ReadAllText(pidFile).Trim());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} still exists: {(File.Exists($"/proc/{pid}/stat") ? File.ReadAllText($"/proc/{pid}/stat") : "")}");
    }
}

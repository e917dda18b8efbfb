using CoCa.MLNet.Demo;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Video;

public class VideoReaderErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly VideoReader _reader = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void MissingFileNamesTheFile()
    {
        string path = _temp.File("nope.mp4");
        var e = Assert.Throws<FileNotFoundException>(() => _reader.SampleFrames(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
        Assert.Contains("folder of frame images", e.Message);
    }

    [Fact]
    public void ZeroLengthFileIsRejectedAsEmpty()
    {
        string path = _temp.File("empty.mp4");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(path));
        Assert.Equal(path, e.Path);
        Assert.Contains(path, e.Message);
        Assert.Contains("empty (0 bytes)", e.Message);
    }

    [Fact]
    public void AStillImageIsNotAVideoOfOneFrame()
    {
        FfmpegVideoWriter.Write(_temp.File("frames"), [IndexCodedVideo.Frame(0)], 1, VideoOutputFormat.PngFrames);
        string path = Path.Combine(_temp.File("frames"), "frame_00000.png");
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(path));
        Assert.Equal(path, e.Path);
        Assert.Contains($"Cannot read video '{path}': it is an image file; expected a video file (.mp4", e.Message);
        Assert.Contains("folder of frame images", e.Message);
    }

    [Fact]
    public void BytesThatAreNoMediaFileAreRejected()
    {
        string path = _temp.File("noise.mp4");
        File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("could not open it as a media file", e.Message);
        Assert.Contains("Expected a video file", e.Message);
    }

    [Fact]
    public void ATextFileIsNotAVideoEvenThoughFfmpegCouldRenderIt()
    {
        string path = _temp.File("labels.txt");
        File.WriteAllLines(path, Enumerable.Range(0, 100).Select(i => $"clip_{i}.mp4,left"));
        var e = Assert.Throws<VideoDecodingException>(() => _reader.Probe(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("text file", e.Message);
    }

    [Fact]
    public void AudioOnlyFileHasNoVideoStream()
    {
        string path = _temp.File("tone.wav");
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=d=0.5", path);
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("no video stream (only audio (pcm_s16le))", e.Message);
    }

    [Fact]
    public void CoverArtOfAnAudioFileIsNotAVideo()
    {
        string cover = _temp.File("cover.png");
        FfmpegVideoWriter.Write(Path.Combine(_temp.Path, "coverframes"), [IndexCodedVideo.Frame(3)], 1, VideoOutputFormat.PngFrames);
        File.Move(Path.Combine(_temp.Path, "coverframes", "frame_00000.png"), cover);
        string path = _temp.File("song.m4a");
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=d=0.5", "-i", cover,
            "-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic", path);
        var e = Assert.Throws<VideoDecodingException>(() => _reader.Probe(path));
        Assert.Contains("no video stream", e.Message);
        Assert.Contains("video (png)", e.Message); // the cover is listed, but not taken
    }

    [Fact]
    public void TruncatedMp4WithoutItsIndexIsUnreadable()
    {
        // Without +faststart the mp4 index (moov) is written last: a download cut short loses it.
        string faststart = IndexCodedVideo.Write(_temp.Path, "v", 20, VideoOutputFormat.Mp4H264);
        string indexLast = _temp.File("index_last.mp4");
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", faststart, "-c", "copy", indexLast);
        string truncated = _temp.File("truncated.mp4");
        var bytes = File.ReadAllBytes(indexLast);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(truncated));
        Assert.Equal(truncated, e.Path);
        Assert.Contains(truncated, e.Message);
        Assert.Contains("moov atom not found", e.Message);
    }

    [Fact]
    public void TruncatedVideoWithItsIndexFirstIsRefusedAsCutShort_NotSampledOverTheFramesThatRemain()
    {
        // With the index first, a cut file still announces all 40 frames; only those before the cut decode. Sampled over
        // those, its first part would stand for the whole video without a word: it is refused, naming the file.
        string whole = IndexCodedVideo.Write(_temp.Path, "v", 40, VideoOutputFormat.AviMjpeg);
        var bytes = File.ReadAllBytes(whole);
        string truncated = _temp.File("truncated.avi");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 6 / 10)]);

        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(truncated, 8));
        Assert.Equal(truncated, e.Path);
        Assert.Matches($"^Cannot read video '{System.Text.RegularExpressions.Regex.Escape(truncated)}': the file is cut short: its header announces 40 frames but it holds (1[2-9]|2[0-6]) ", e.Message);
    }

    [Fact]
    public void EmptyFrameFolderSaysWhichFilesCount()
    {
        string folder = _temp.File("clip");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "readme.md"), "no frames here");
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(folder));
        Assert.Equal(folder, e.Path);
        Assert.Contains(folder, e.Message);
        Assert.Contains("no frame images", e.Message);
        Assert.Contains(".png", e.Message);
    }

    [Fact]
    public void UnreadableFrameImageNamesTheFrameAndTheFolder()
    {
        string folder = _temp.File("clip");
        FfmpegVideoWriter.Write(folder, IndexCodedVideo.Frames(4), 10, VideoOutputFormat.PngFrames);
        string broken = Path.Combine(folder, "frame_00002.png");
        File.WriteAllBytes(broken, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(folder, 4));
        Assert.Contains(folder, e.Message);
        Assert.Contains(broken, e.Message);
    }

    [Fact]
    public void MissingFfmpegSaysToInstallDebiansPackage()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        var noProbe = new VideoReader(new VideoReaderOptions { FfprobePath = "/nonexistent/bin/ffprobe" });
        var e = Assert.Throws<VideoDecodingException>(() => noProbe.SampleFrames(video));
        Assert.Contains(video, e.Message);
        Assert.Contains("/nonexistent/bin/ffprobe", e.Message);
        Assert.Contains("Install Debian's ffmpeg package", e.Message);

        var noFfmpeg = new VideoReader(new VideoReaderOptions { FfmpegPath = "/nonexistent/bin/ffmpeg" });
        e = Assert.Throws<VideoDecodingException>(() => noFfmpeg.SampleFrames(video));
        Assert.Contains("Install Debian's ffmpeg package", e.Message);
    }

    [Fact]
    public void RejectsNonPositiveFrameCounts()
    {
        string video = IndexCodedVideo.Write(_temp.Path, "v", 4, VideoOutputFormat.AviMjpeg);
        Assert.Throws<ArgumentOutOfRangeException>(() => _reader.SampleFrames(video, 0));
    }
}

using CoCa.MLNet.Demo;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Video;

namespace CoCa.MLNet.Tests.Video;

public class VideoReaderSamplingTests(IndexCodedVideosFixture videos) : IClassFixture<IndexCodedVideosFixture>
{
    private readonly VideoReader _reader = new();

    public static TheoryData<VideoOutputFormat> Formats => new(Enum.GetValues<VideoOutputFormat>());

    [Theory]
    [MemberData(nameof(Formats))]
    public void SamplesSixteenUniformFramesAndDecodesExactlyThoseSourceFrames(VideoOutputFormat format)
    {
        var sampled = _reader.SampleFrames(videos.Long[format], 16);

        int[] expected = [1, 3, 6, 8, 11, 13, 16, 18, 21, 23, 26, 28, 31, 33, 36, 38];
        Assert.Equal(expected, sampled.SourceIndices);
        Assert.Equal(16, sampled.Count);
        Assert.Equal(40, sampled.Video.FrameCount);
        Assert.Equal(expected, sampled.Frames.Select(IndexCodedVideo.ReadIndex));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ShortVideosRepeatFramesUniformlyToAlwaysGiveFFrames(VideoOutputFormat format)
    {
        var sampled = _reader.SampleFrames(videos.Short[format], 16);

        int[] expected = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4]; // floor((2i+1)·5/32)
        Assert.Equal(expected, sampled.SourceIndices);
        Assert.Equal(16, sampled.Frames.Length);
        Assert.Equal(expected, sampled.Frames.Select(IndexCodedVideo.ReadIndex));
        // each source frame was decoded once and shared by its repeats
        Assert.Equal(5, sampled.Frames.Distinct(ReferenceEqualityComparer.Instance).Count());
    }

    [Theory]
    [InlineData(VideoOutputFormat.Mp4H264, FrameCountSource.ContainerHeader, "h264")]
    [InlineData(VideoOutputFormat.WebmVp9, FrameCountSource.CountedPackets, "vp9")]   // webm has no nb_frames
    [InlineData(VideoOutputFormat.AviMjpeg, FrameCountSource.ContainerHeader, "mjpeg")]
    [InlineData(VideoOutputFormat.PngFrames, FrameCountSource.ImageFiles, null)]
    public void ProbeReportsSizeFrameCountAndWhereTheCountCameFrom(VideoOutputFormat format, FrameCountSource source, string? codec)
    {
        var info = _reader.Probe(videos.Long[format]);

        Assert.Equal(40, info.FrameCount);
        Assert.Equal(source, info.FrameCountSource);
        Assert.Equal(IndexCodedVideo.Width, info.Width);
        Assert.Equal(IndexCodedVideo.Height, info.Height);
        Assert.Equal(codec, info.CodecName);
        if (format == VideoOutputFormat.PngFrames)
        {
            Assert.Equal(VideoSourceKind.ImageFolder, info.Kind);
            Assert.Equal(40, info.FrameFiles.Count);
        }
        else
        {
            Assert.Equal(VideoSourceKind.File, info.Kind);
            Assert.Equal(10.0, info.FrameRate!.Value, 3);
            Assert.Equal(4.0, info.Duration!.Value.TotalSeconds, 1);
        }
    }

    [Fact]
    public void TakesEveryFrameOnceWhenTheVideoHasExactlyF()
    {
        var sampled = _reader.SampleFrames(videos.Long[VideoOutputFormat.Mp4H264], 40);
        Assert.Equal(Enumerable.Range(0, 40), sampled.SourceIndices);
        Assert.Equal(Enumerable.Range(0, 40), sampled.Frames.Select(IndexCodedVideo.ReadIndex));
    }

    [Fact]
    public void LosslessFramesComeBackBitExact()
    {
        // PNG frames through ffmpeg's own decoders and the frame-folder path give the original pixels.
        var sampled = _reader.SampleFrames(videos.Long[VideoOutputFormat.PngFrames], 4);
        for (int i = 0; i < 4; i++)
            Assert.Equal(IndexCodedVideo.Frame(sampled.SourceIndices[i]).Pixels, sampled.Frames[i].Pixels);
    }

    [Fact]
    public void FolderFramesGoInOrdinalFileNameOrderAndOtherFilesAreIgnored()
    {
        using var temp = new TempFolder();
        string folder = temp.File("clip");
        Directory.CreateDirectory(folder);
        // Written shuffled, with names that sort by number only when zero-padded; plus things that are not frames.
        string[] names = ["b_10.png", "a_02.png", "a_01.png", "b_03.png"]; // ordinal order: a_01 a_02 b_03 b_10
        int[] content = [3, 1, 0, 2];
        for (int i = 0; i < names.Length; i++)
            FfmpegVideoWriter.Write(Path.Combine(temp.Path, "tmp" + i), [IndexCodedVideo.Frame(content[i])], 1, VideoOutputFormat.PngFrames);
        for (int i = 0; i < names.Length; i++)
            File.Move(Path.Combine(temp.Path, "tmp" + i, "frame_00000.png"), Path.Combine(folder, names[i]));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a frame");
        Directory.CreateDirectory(Path.Combine(folder, "sub.png"));

        var decoded = new List<string>();
        var reader = new VideoReader(new VideoReaderOptions
        {
            FrameImageDecoder = path => { decoded.Add(Path.GetFileName(path)); return CoCa.MLNet.Preprocessing.ImageDecoder.Decode(path); },
        });
        var sampled = reader.SampleFrames(folder, 8);

        Assert.Equal(4, sampled.Video.FrameCount);
        Assert.Equal(["a_01.png", "a_02.png", "b_03.png", "b_10.png"], sampled.Video.FrameFiles.Select(Path.GetFileName));
        Assert.Equal([0, 0, 1, 1, 2, 2, 3, 3], sampled.SourceIndices);
        Assert.Equal([0, 0, 1, 1, 2, 2, 3, 3], sampled.Frames.Select(IndexCodedVideo.ReadIndex));
        Assert.Equal(["a_01.png", "a_02.png", "b_03.png", "b_10.png"], decoded); // each frame decoded once, through the injected decoder
    }

    [Fact]
    public void FolderDecodesOnlyTheSampledFrames()
    {
        int calls = 0;
        var reader = new VideoReader(new VideoReaderOptions { FrameImageDecoder = p => { calls++; return CoCa.MLNet.Preprocessing.ImageDecoder.Decode(p); } });
        var sampled = reader.SampleFrames(videos.Long[VideoOutputFormat.PngFrames], 4);
        Assert.Equal([5, 15, 25, 35], sampled.SourceIndices);
        Assert.Equal(4, calls);
    }

    [Fact]
    public void JpegFramesInAFolderAreAVideoToo()
    {
        using var temp = new TempFolder();
        for (int i = 0; i < 6; i++)
        {
            using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(IndexCodedVideo.Width, IndexCodedVideo.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
            var frame = IndexCodedVideo.Frame(i);
            for (int p = 0; p < frame.Width * frame.Height; p++)
                bitmap.SetPixel(p % frame.Width, p / frame.Width, new SkiaSharp.SKColor(frame.Pixels[3 * p], frame.Pixels[3 * p + 1], frame.Pixels[3 * p + 2]));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(temp.File($"{i:D4}.JPG"), data.ToArray());
        }
        var sampled = _reader.SampleFrames(temp.Path, 3);
        Assert.Equal([1, 3, 5], sampled.SourceIndices);
        Assert.Equal([1, 3, 5], sampled.Frames.Select(IndexCodedVideo.ReadIndex));
    }

    [Fact]
    public void AnMp4CutWithStreamCopyIsSampledOverTheFramesThatActuallyDecode()
    {
        // Cutting with -c copy keeps the GOP's leading frames in the file but hides them with an edit list:
        // the container announces more frames (nb_frames) than the decoder delivers.
        using var temp = new TempFolder();
        string full = IndexCodedVideo.Write(temp.Path, "full", 40, VideoOutputFormat.Mp4H264);
        string cut = temp.File("cut.mp4");
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", "1.25", "-i", full, "-c", "copy", cut);
        var announced = _reader.Probe(cut);
        Assert.Equal(FrameCountSource.ContainerHeader, announced.FrameCountSource);

        var sampled = _reader.SampleFrames(cut, 8);

        Assert.Equal(FrameCountSource.DecodedFrames, sampled.Video.FrameCountSource);
        int n = sampled.Video.FrameCount;
        Assert.InRange(n, 26, 29); // 40 frames at 10 fps from 1.25 s on (ffmpeg versions differ by a frame)
        Assert.True(n < announced.FrameCount, $"precondition: the cut should announce more frames ({announced.FrameCount}) than decode ({n})");
        Assert.Equal(VideoFrameSampler.UniformIndices(n, 8), sampled.SourceIndices);
        int firstShown = 40 - n; // the cut keeps the last n source frames
        Assert.Equal(sampled.SourceIndices.Select(i => i + firstShown), sampled.Frames.Select(IndexCodedVideo.ReadIndex));
    }

    [Fact]
    public void AnMp4CutShort_IsRefusedNamingIt_NotSampledOverItsFirstPart()
    {
        // An interrupted download of a "fast start" mp4 (index first): the header announces every frame, the file holds
        // the first ones. Sampled over what decodes, its first part would silently stand for the whole video.
        using var temp = new TempFolder();
        string full = IndexCodedVideo.Write(temp.Path, "full", 40, VideoOutputFormat.Mp4H264);
        string faststart = temp.File("faststart.mp4");
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", full, "-c", "copy", "-movflags", "+faststart", faststart);
        Assert.Equal(40, _reader.SampleFrames(faststart, 8).Video.FrameCount);   // whole, it reads
        var bytes = File.ReadAllBytes(faststart);
        // Cut at different points, ffmpeg either fails with a page of decoder errors or delivers the first frames quietly.
        foreach (double kept in new[] { 0.5, 0.7, 0.9 })
        {
            string truncated = temp.File($"truncated-{kept}.mp4");
            File.WriteAllBytes(truncated, bytes[..(int)(bytes.Length * kept)]);
            Assert.Equal(40, _reader.Probe(truncated).FrameCount);   // precondition: the header still announces all 40

            var e = Assert.Throws<VideoDecodingException>(() => _reader.SampleFrames(truncated, 8));
            Assert.StartsWith($"Cannot read video '{truncated}': the file is cut short: its header announces 40 frames but it holds ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void RotationMetadataIsAppliedAndReportedAsTheDisplayedSize()
    {
        using var temp = new TempFolder();
        string plain = IndexCodedVideo.Write(temp.Path, "plain", 10, VideoOutputFormat.Mp4H264);
        string rotated = temp.File("rotated.mp4");
        // ffmpeg ≥ 7 sets the display matrix with -display_rotation; 5.x/6.x with the 'rotate' metadata tag.
        if (!FfmpegTool.TryRun("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-display_rotation:v:0", "90", "-i", plain, "-c", "copy", rotated))
            FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated);

        var info = _reader.Probe(rotated);
        Assert.Equal(90, Math.Abs(info.Rotation));
        Assert.Equal((IndexCodedVideo.Height, IndexCodedVideo.Width), (info.Width, info.Height));

        var frame = _reader.SampleFrames(rotated, 1).Frames[0];
        Assert.Equal((IndexCodedVideo.Height, IndexCodedVideo.Width), (frame.Width, frame.Height));
        // 90° counter-clockwise: the original's top-right red marker is now top-left.
        var topLeft = IndexCodedVideo.Mean(frame, 4, 4, 8, 8);
        Assert.True(topLeft.R > 180 && topLeft.B < 60, $"expected the red marker top-left after rotation, got {topLeft}");
    }

    [Fact]
    public void AVideoWithAudioIsReadFromItsVideoStream()
    {
        using var temp = new TempFolder();
        string silent = IndexCodedVideo.Write(temp.Path, "silent", 20, VideoOutputFormat.Mp4H264);
        string withAudio = temp.File("with_audio.mkv");
        // audio first, so the video is stream 1
        FfmpegTool.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=d=2", "-i", silent,
            "-map", "0:a", "-map", "1:v", "-c:v", "copy", "-c:a", "flac", "-shortest", withAudio);

        var sampled = _reader.SampleFrames(withAudio, 4);
        Assert.Equal(1, sampled.Video.StreamIndex);
        Assert.Equal([2, 7, 12, 17], sampled.SourceIndices);
        Assert.Equal([2, 7, 12, 17], sampled.Frames.Select(IndexCodedVideo.ReadIndex));
    }
}

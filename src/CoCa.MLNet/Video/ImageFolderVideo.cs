using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Video;

/// <summary>
/// A folder of frame images read as a video: the files with a frame-image extension directly inside the folder
/// (sub-folders and other files are ignored), in ordinal file-name order — name frames with zero-padded numbers
/// (frame_00001.png, …) so that this is their time order.
/// </summary>
internal static class ImageFolderVideo
{
    public static VideoInfo Probe(string folder, VideoReaderOptions options)
    {
        var extensions = new HashSet<string>(options.FrameImageExtensions, StringComparer.OrdinalIgnoreCase);
        var files = Directory.EnumerateFiles(folder)
            .Where(f => extensions.Contains(System.IO.Path.GetExtension(f)))
            .OrderBy(f => System.IO.Path.GetFileName(f), StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
            throw new VideoDecodingException(folder,
                $"Cannot read video folder '{folder}': it contains no frame images (expected files ending in {string.Join(", ", options.FrameImageExtensions)}).");

        int width, height;
        try
        {
            (width, height) = ImageHeader.ReadSize(files[0]);
        }
        catch (InvalidDataException e)
        {
            throw new VideoDecodingException(folder, $"Cannot read video folder '{folder}': its first frame '{files[0]}' is not a readable image.", e);
        }

        return new VideoInfo
        {
            Path = folder,
            Kind = VideoSourceKind.ImageFolder,
            FrameCount = files.Length,
            FrameCountSource = FrameCountSource.ImageFiles,
            Width = width,
            Height = height,
            FrameFiles = files,
        };
    }

    public static RgbImage DecodeFrame(VideoInfo video, int index, VideoReaderOptions options)
    {
        string file = video.FrameFiles[index];
        var decode = options.FrameImageDecoder ?? CoCa.MLNet.Preprocessing.ImageDecoder.Decode;
        try
        {
            return decode(file);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new VideoDecodingException(video.Path,
                $"Cannot read video folder '{video.Path}': frame {index} '{file}' could not be decoded as an image ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
        }
    }
}

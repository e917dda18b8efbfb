using CoCa.MLNet.Configuration;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Text;
using CoCa.MLNet.Video;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// Turns a batch of <see cref="ImageCaptionPair"/>s into model inputs: pixels [B, 3, S, S] after open_clip's eval
/// preprocessing (decoded on demand, so memory is bounded by the batch, not the data set) and token ids [B, context];
/// for evaluation, the sampled frames of a video row too.
/// </summary>
internal sealed class PairBatchLoader
{
    private readonly CoCaImagePreprocessor _preprocessor;
    private readonly ClipTokenizer _tokenizer;
    private readonly CoCaModelConfig _config;
    private readonly VideoReader _videoReader = new();

    public PairBatchLoader(CoCaModelConfig config, ClipTokenizer tokenizer)
    {
        _config = config;
        _tokenizer = tokenizer;
        _preprocessor = new CoCaImagePreprocessor(config.Preprocess with { ImageSize = config.Vision.ImageSize });
        if (tokenizer.VocabularySize > config.Text.VocabSize)
            throw new ArgumentException(
                $"The tokenizer's vocabulary has {tokenizer.VocabularySize} tokens but the model's text vocab_size is {config.Text.VocabSize}; use the model's own vocabulary.");
    }

    public (Tensor Pixels, Tensor Ids) Load(IReadOnlyList<ImageCaptionPair> pairs, Device device) => (LoadPixels(pairs, device), LoadIds(pairs, device));

    /// <summary>Pixels [n, 3, S, S] of the pairs' images (videos are refused: they are evaluated through <see cref="LoadFrames"/>).</summary>
    public Tensor LoadPixels(IReadOnlyList<ImageCaptionPair> pairs, Device device)
    {
        int n = pairs.Count, length = _preprocessor.OutputLength, size = _config.Vision.ImageSize;
        foreach (var pair in pairs)
            if (pair.IsVideo) throw new InvalidDataException(VideoRefused(pair));
        var pixels = new float[n * length];
        Parallel.For(0, n, i =>
        {
            try
            {
                _preprocessor.Preprocess(pairs[i].ImagePath, pixels.AsSpan(i * length, length));
            }
            catch (Exception e) when (IsUnreadable(e))
            {
                throw new InvalidDataException(Unreadable(pairs[i], e), e);
            }
        });
        return torch.tensor(pixels, [n, 3, size, size], device: device);
    }

    /// <summary>
    /// Decodes every image of <paramref name="pairs"/> once and refuses them, in one message that starts with
    /// <paramref name="what"/> (and the pairs file) and names each bad line, when any cannot be read — or, with
    /// <paramref name="imagesOnly"/>, is a video (CoCa trains on images; evaluation takes videos). The fine-tuner checks
    /// its training and validation pairs so before the first step, not in the middle of an epoch whose training a bad
    /// image would otherwise throw away.
    /// </summary>
    public static void CheckImagesReadable(IReadOnlyList<ImageCaptionPair> pairs, string what, bool imagesOnly = false)
    {
        var bad = new System.Collections.Concurrent.ConcurrentBag<(int Line, string Text)>();
        if (imagesOnly)
            foreach (var video in pairs.Where(p => p.IsVideo).DistinctBy(p => p.ImagePath))
                bad.Add((video.Line, VideoRefused(video)));
        Parallel.ForEach(pairs.Where(p => !p.IsVideo).DistinctBy(p => p.ImagePath), pair =>
        {
            try
            {
                ImageFiles.EnsureReadable(pair.ImagePath);
            }
            catch (Exception e) when (IsUnreadable(e))
            {
                bad.Add((pair.Line, Unreadable(pair, e)));
            }
        });
        if (bad.IsEmpty) return;
        var lines = bad.OrderBy(b => b.Line).Select(b => b.Text).ToList();
        var files = pairs.Select(p => p.DataFile).Distinct().ToList();
        var source = files is [{ } file] ? $"{what} ('{file}')" : what;
        throw new InvalidDataException(
            $"{source}: {lines.Count} bad image(s), so nothing was trained: {string.Join("; ", lines.Take(5))}{(lines.Count > 5 ? $"; ... ({lines.Count} in all)" : "")}.");
    }

    private static bool IsUnreadable(Exception e) => e is IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException or ArgumentException;

    private static string Unreadable(ImageCaptionPair pair, Exception e) =>
        $"image '{pair.ImagePath}' ({pair.Origin}) cannot be read: {CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}";

    private static string VideoRefused(ImageCaptionPair pair) =>
        $"'{pair.ImagePath}' ({pair.Origin}) is a video; CoCa trains on images (coca evaluate-pairs evaluates videos, as the mean of their frames' embeddings)";

    /// <summary>Token ids [n, context] of the pairs' captions.</summary>
    public Tensor LoadIds(IReadOnlyList<ImageCaptionPair> pairs, Device device)
    {
        var ids = _tokenizer.EncodeBatch(pairs.Select(p => p.Caption).ToList(), _config.Text.ContextLength);
        return torch.tensor(ids, [pairs.Count, _config.Text.ContextLength], device: device);
    }

    /// <summary>
    /// Pixels [F, 3, S, S] of <paramref name="frameCount"/> frames sampled uniformly over the pair's video (a video file
    /// or a folder of frame images), decoded and preprocessed as the video featurizer does (<see cref="VideoReader"/>).
    /// </summary>
    public Tensor LoadFrames(ImageCaptionPair video, int frameCount, Device device)
    {
        int length = _preprocessor.OutputLength, size = _config.Vision.ImageSize;
        SampledFrames sampled;
        try
        {
            sampled = _videoReader.SampleFrames(video.ImagePath, frameCount);
        }
        catch (Exception e) when (e is IOException or VideoDecodingException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Video '{video.ImagePath}' ({video.Origin}) cannot be read: {e.Message}", e);
        }
        var pixels = new float[sampled.Count * length];
        Parallel.For(0, sampled.Count, f => _preprocessor.Preprocess(sampled.Frames[f], pixels.AsSpan(f * length, length)));
        return torch.tensor(pixels, [sampled.Count, 3, size, size], device: device);
    }
}

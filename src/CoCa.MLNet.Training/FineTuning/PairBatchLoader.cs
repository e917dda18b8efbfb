using CoCa.MLNet.Configuration;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// Turns a batch of <see cref="ImageCaptionPair"/>s into model inputs: pixels [B, 3, S, S] after open_clip's eval
/// preprocessing (decoded on demand, so memory is bounded by the batch, not the data set) and token ids [B, context].
/// </summary>
internal sealed class PairBatchLoader
{
    private readonly CoCaImagePreprocessor _preprocessor;
    private readonly ClipTokenizer _tokenizer;
    private readonly CoCaModelConfig _config;

    public PairBatchLoader(CoCaModelConfig config, ClipTokenizer tokenizer)
    {
        _config = config;
        _tokenizer = tokenizer;
        _preprocessor = new CoCaImagePreprocessor(config.Preprocess with { ImageSize = config.Vision.ImageSize });
        if (tokenizer.VocabularySize > config.Text.VocabSize)
            throw new ArgumentException(
                $"The tokenizer's vocabulary has {tokenizer.VocabularySize} tokens but the model's text vocab_size is {config.Text.VocabSize}; use the model's own vocabulary.");
    }

    public (Tensor Pixels, Tensor Ids) Load(IReadOnlyList<ImageCaptionPair> pairs, Device device)
    {
        int n = pairs.Count, length = _preprocessor.OutputLength, size = _config.Vision.ImageSize;
        var pixels = new float[n * length];
        Parallel.For(0, n, i =>
        {
            try
            {
                _preprocessor.Preprocess(pairs[i].ImagePath, pixels.AsSpan(i * length, length));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                throw new InvalidDataException($"Line {pairs[i].Line}: image '{pairs[i].ImagePath}' cannot be read: {e.Message}", e);
            }
        });
        var ids = _tokenizer.EncodeBatch(pairs.Select(p => p.Caption).ToList(), _config.Text.ContextLength);
        return (torch.tensor(pixels, [n, 3, size, size], device: device), torch.tensor(ids, [n, _config.Text.ContextLength], device: device));
    }
}

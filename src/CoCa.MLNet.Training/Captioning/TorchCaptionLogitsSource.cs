using CoCa.MLNet.Captioning;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Captioning;

/// <summary>
/// Next-token logits from the TorchSharp CoCa for <see cref="CaptionSearch"/>: every step reruns the text tower and the
/// multimodal decoder over each row's whole prefix, as open_clip's <c>generate()</c> does without a cache. A step costs
/// O(length²) instead of the ONNX decoder's O(length), but it needs no export and runs on the model being trained.
/// Rows are whole sequences, so beam search's reordering (<c>parents</c>) needs nothing here.
/// </summary>
internal sealed class TorchCaptionLogitsSource : ICaptionLogitsSource
{
    private readonly CoCaModel _model;
    private readonly Tensor _captionTokens;
    private readonly int _images;
    private Tensor? _rowTokens;

    /// <param name="model">The CoCa, in eval mode, under no_grad.</param>
    /// <param name="captionTokens">[images, T, w] (<see cref="CoCaVisionModel.Encode"/>'s caption tokens); the caller keeps it.</param>
    public TorchCaptionLogitsSource(CoCaModel model, Tensor captionTokens)
    {
        _model = model;
        _captionTokens = captionTokens;
        _images = (int)captionTokens.shape[0];
    }

    public float[] Next(long[] sequences, int stride, int rows, int length, int[]? parents)
    {
        if (rows % _images != 0)
            throw new InvalidOperationException($"{rows} rows do not split evenly over {_images} images.");
        var ids = new long[rows * length];
        for (int r = 0; r < rows; r++) Array.Copy(sequences, r * stride, ids, r * length, length);
        using var scope = NewDisposeScope();
        var logits = _model.NextTokenLogits(RowTokens(rows), torch.tensor(ids, [rows, length], device: _captionTokens.device));
        return logits.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    // Each image's caption tokens repeated for its rows (beams), made once.
    private Tensor RowTokens(int rows)
    {
        if (rows == _images) return _captionTokens;
        if (_rowTokens is null || _rowTokens.shape[0] != rows)
        {
            _rowTokens?.Dispose();
            _rowTokens = _captionTokens.repeat_interleave(rows / _images, 0).DetachFromDisposeScope();
        }
        return _rowTokens;
    }

    public void Dispose() => _rowTokens?.Dispose();
}

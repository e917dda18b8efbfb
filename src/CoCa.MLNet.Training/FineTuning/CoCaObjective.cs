using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>The three numbers of one CoCa loss evaluation (tensors: backward through <see cref="Total"/>).</summary>
public readonly record struct CoCaLoss(Tensor Contrastive, Tensor Caption, Tensor Total);

/// <summary>
/// CoCa's training objective (the paper's Algorithm 1, as open_clip ≥ 2.26's <c>CoCaLoss</c> computes it):
/// <list type="bullet">
/// <item>contrastive = (CE(s·I·Tᵀ, arange) + CE(s·T·Iᵀ, arange)) / 2 with I, T the L2-normalised image and text
/// embeddings and s = exp(logit_scale);</item>
/// <item>caption = token cross-entropy of the decoder's logits at positions 0..n−2 against ids 1..n−1, pad id ignored,
/// mean over the counted tokens;</item>
/// <item>total = λ_con·contrastive + λ_cap·caption (open_clip's CoCa defaults: 1 and 2).</item>
/// </list>
/// The weights are held as native scalars for the object's lifetime (no implicit double→Scalar on the hot path).
/// </summary>
public sealed class CoCaObjective : IDisposable
{
    public const double DefaultContrastiveWeight = 1.0;
    public const double DefaultCaptionWeight = 2.0;

    private readonly Scalar _contrastiveWeight;
    private readonly Scalar _captionWeight;
    private readonly Scalar _half = 0.5.ToScalar();

    public CoCaObjective(double contrastiveWeight = DefaultContrastiveWeight, double captionWeight = DefaultCaptionWeight, int padId = 0)
    {
        if (!(contrastiveWeight >= 0) || !(captionWeight >= 0) || double.IsInfinity(contrastiveWeight) || double.IsInfinity(captionWeight))
            throw new ArgumentOutOfRangeException(nameof(contrastiveWeight), $"Loss weights must be finite and non-negative, got contrastive {contrastiveWeight}, caption {captionWeight}.");
        ContrastiveWeight = contrastiveWeight;
        CaptionWeight = captionWeight;
        PadId = padId;
        _contrastiveWeight = contrastiveWeight.ToScalar();
        _captionWeight = captionWeight.ToScalar();
    }

    public double ContrastiveWeight { get; }
    public double CaptionWeight { get; }
    public int PadId { get; }

    /// <param name="imageEmbedding">[N, E], not normalised.</param>
    /// <param name="textEmbedding">[N, E], not normalised.</param>
    /// <param name="logits">[N, L−1, V]: decoder logits for the text without its last position.</param>
    /// <param name="ids">[N, L] token ids; labels are ids[:, 1:].</param>
    /// <param name="logitScale">The scalar logit_scale parameter (log of the temperature's inverse).</param>
    public CoCaLoss Compute(Tensor imageEmbedding, Tensor textEmbedding, Tensor logits, Tensor ids, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var contrastive = Contrastive(imageEmbedding, textEmbedding, logitScale);
        var caption = Caption(logits, ids);
        var total = TorchScalars.Add(contrastive.mul(_contrastiveWeight), caption.mul(_captionWeight));
        var (c, p, t) = scope.MoveToOuter(contrastive, caption, total);
        return new CoCaLoss(c, p, t);
    }

    /// <summary>
    /// The same loss from the decoder's states after its final LayerNorm [N, L−1, w] and its projection to the
    /// vocabulary [w, V]: the trainers' form. The caption cross-entropy is made a few rows at a time, with its gradients
    /// (<see cref="VocabularyCrossEntropy"/>), so the [N, L−1, V] logits and their log-softmax never exist whole — with
    /// B-32's vocabulary, 1.4 GB less at batch 32 — and nothing is recomputed. The value equals <see cref="Compute"/>'s.
    /// </summary>
    internal CoCaLoss ComputeFromNormalizedHidden(Tensor imageEmbedding, Tensor textEmbedding, Tensor normalizedHidden, Tensor vocabularyProjection,
        Tensor ids, Tensor logitScale, long chunkBytes = 64L << 20)
    {
        using var scope = NewDisposeScope();
        long n = normalizedHidden.shape[0], positions = normalizedHidden.shape[1], width = normalizedHidden.shape[2];
        if (ids.shape[1] != positions + 1)
            throw new ArgumentException($"Decoder states cover {positions} positions but the ids have {ids.shape[1]}; expected one more id than positions.");
        var contrastive = Contrastive(imageEmbedding, textEmbedding, logitScale);
        var labels = ids.narrow(1, 1, positions).reshape(n * positions);
        using var pad = ((long)PadId).ToScalar();
        var counted = labels.ne(pad).sum().to(ScalarType.Float32);
        var caption = VocabularyCrossEntropy.Sum(normalizedHidden.reshape(n * positions, width), vocabularyProjection, labels, PadId, chunkBytes).div(counted);
        var total = TorchScalars.Add(contrastive.mul(_contrastiveWeight), caption.mul(_captionWeight));
        var (c, p, t) = scope.MoveToOuter(contrastive, caption, total);
        return new CoCaLoss(c, p, t);
    }

    /// <summary>Symmetric InfoNCE over the batch: pair i is the positive of row i and of column i.</summary>
    public Tensor Contrastive(Tensor imageEmbedding, Tensor textEmbedding, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var image = nn.functional.normalize(imageEmbedding, dim: -1);
        var text = nn.functional.normalize(textEmbedding, dim: -1);
        var logitsPerImage = logitScale.exp().mul(image.matmul(text.t()));
        // Row i's positive is column i (arange with explicit bounds: torch.arange(n) converts them implicitly).
        using var first = 0L.ToScalar();
        using var end = imageEmbedding.shape[0].ToScalar();
        using var stride = 1L.ToScalar();
        var labels = torch.arange(first, end, stride, dtype: ScalarType.Int64, device: imageEmbedding.device);
        var loss = TorchScalars.Add(nn.functional.cross_entropy(logitsPerImage, labels), nn.functional.cross_entropy(logitsPerImage.t(), labels))
            .mul(_half);
        return scope.MoveToOuter(loss);
    }

    /// <summary>Cross-entropy of logits[:, i] against ids[:, i+1], pad id ignored, mean over counted tokens.</summary>
    public Tensor Caption(Tensor logits, Tensor ids)
    {
        using var scope = NewDisposeScope();
        long n = logits.shape[0], positions = logits.shape[1], vocab = logits.shape[2];
        if (ids.shape[1] != positions + 1)
            throw new ArgumentException($"Decoder logits cover {positions} positions but the ids have {ids.shape[1]}; expected one more id than positions.");
        var labels = ids.narrow(1, 1, positions).reshape(n * positions);
        var loss = nn.functional.cross_entropy(logits.reshape(n * positions, vocab), labels, ignore_index: PadId);
        return scope.MoveToOuter(loss);
    }

    public void Dispose()
    {
        _contrastiveWeight.Dispose();
        _captionWeight.Dispose();
        _half.Dispose();
    }
}

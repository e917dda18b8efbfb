using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The caption loss's projection to the vocabulary and its cross-entropy as one step: Σ over counted rows of
/// −log softmax(y·W)[label], made a few rows at a time so the [rows, V] logits never exist whole.
/// </summary>
/// <remarks>
/// Why one autograd node that makes its own gradients: the loss ends the graph (the caller only scales it), so its
/// gradients with respect to y and W are known in the forward pass — (softmax − one-hot) of each chunk times W and yᵀ —
/// and are made there, chunk by chunk, and kept (y's size and W's) until the backward pass scales them by the incoming
/// gradient. The logits and their log-softmax (1.4 GB for <c>coca_ViT-B-32</c> at batch 32 in fp32, and their
/// gradient) are never kept, and nothing is recomputed: the same three matrix products as autograd's, in the same
/// precision (in bfloat16 the products take bfloat16 operands and the softmax and loss are fp32, as autocast does).
/// </remarks>
internal static class VocabularyCrossEntropy
{
    /// <summary>
    /// Σ −log softmax(<paramref name="y"/>·<paramref name="weight"/>)[label] over the rows whose label is not
    /// <paramref name="ignoreIndex"/>, as an fp32 scalar; differentiable with respect to y and W.
    /// </summary>
    /// <param name="y">[R, w]: the rows to project (the decoder's states after its final LayerNorm).</param>
    /// <param name="weight">[w, V]: the projection to the vocabulary.</param>
    /// <param name="labels">[R] int64 target ids.</param>
    /// <param name="ignoreIndex">The label of rows that count for nothing (the pad id).</param>
    /// <param name="chunkBytes">About how many bytes of fp32 logits one chunk makes.</param>
    public static Tensor Sum(Tensor y, Tensor weight, Tensor labels, long ignoreIndex, long chunkBytes = 64L << 20)
    {
        if (y.dim() != 2 || weight.dim() != 2 || y.shape[1] != weight.shape[0] || labels.dim() != 1 || labels.shape[0] != y.shape[0])
            throw new ArgumentException($"The vocabulary cross-entropy needs rows [R, w], a projection [w, V] and labels [R]; got [{string.Join(", ", y.shape)}], [{string.Join(", ", weight.shape)}] and [{string.Join(", ", labels.shape)}].");
        var call = new Call(ignoreIndex, Math.Max(1, chunkBytes), MixedPrecision.Current, y.requires_grad, weight.requires_grad);
        if (!torch.is_grad_enabled() || !(call.RowsNeedGradient || call.WeightNeedsGradient))
        {
            using var scope = NewDisposeScope();
            return scope.MoveToOuter(Run(call, y, weight, labels, gradients: false).Loss);
        }
        return Function.apply(call, y, weight, labels);
    }

    private sealed record Call(long IgnoreIndex, long ChunkBytes, TrainingPrecision Precision, bool RowsNeedGradient, bool WeightNeedsGradient);

    /// <summary>The loss and, when asked, the unscaled gradients with respect to the rows [R, w] and the weight [w, V].</summary>
    private static (Tensor Loss, Tensor? RowsGradient, Tensor? WeightGradient) Run(Call call, Tensor y, Tensor weight, Tensor labels, bool gradients)
    {
        using var outer = NewDisposeScope();
        using var noGrad = torch.no_grad();
        bool low = call.Precision == TrainingPrecision.BFloat16;
        long rows = y.shape[0], vocabulary = weight.shape[1];
        long chunk = Math.Clamp(call.ChunkBytes / Math.Max(1, vocabulary * sizeof(float)), 1, Math.Max(1, rows));
        // Cast once, not per chunk (autocast caches the cast of a weight the same way within a step).
        var w = low ? weight.to(ScalarType.BFloat16) : weight.detach();
        var wT = w.t();
        using var ignore = call.IgnoreIndex.ToScalar();
        using var zeroLabel = 0L.ToScalar();
        var loss = torch.zeros([], dtype: ScalarType.Float32, device: y.device);
        var rowsGradient = gradients && call.RowsNeedGradient ? torch.empty_like(y) : null;
        var weightGradient = gradients && call.WeightNeedsGradient ? torch.zeros_like(weight) : null;
        for (long start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(chunk, rows - start);
            var yc = y.narrow(0, start, count);
            if (low) yc = yc.to(ScalarType.BFloat16);
            var labelsChunk = labels.narrow(0, start, count);
            var counted = labelsChunk.ne(ignore);
            var index = labelsChunk.masked_fill(counted.logical_not(), zeroLabel).unsqueeze(1);   // gather needs an id in range
            // The [rows, V] temporaries are freed as soon as they are used: the loss runs at the end of the forward pass,
            // on top of every kept activation, so what it holds at once adds to the step's peak.
            var logits = yc.matmul(w);
            var wide = MixedPrecision.Widen(logits);
            var logProbabilities = nn.functional.log_softmax(wide, 1);
            if (!ReferenceEquals(wide, logits)) wide.Dispose();
            logits.Dispose();
            var picked = logProbabilities.gather(1, index).squeeze(1).masked_fill(counted.logical_not(), zeroLabel);
            loss.sub_(picked.sum());
            if (!gradients) continue;
            // d loss / d logits = softmax − one-hot on counted rows, zero on ignored ones.
            var countedWeight = counted.to(ScalarType.Float32).unsqueeze(1);
            var logitsGradient = logProbabilities.exp_().scatter_add_(1, index, countedWeight.neg()).mul_(countedWeight);
            if (low)
            {
                var lowGradient = logitsGradient.to(ScalarType.BFloat16);
                logitsGradient.Dispose();
                logitsGradient = lowGradient;
            }
            rowsGradient?.narrow(0, start, count).copy_(logitsGradient.matmul(wT));
            if (weightGradient is null) continue;
            // Accumulated in place, without a [w, V] fp32 temporary: fp32 adds the product inside the matrix product
            // (addmm_), bf16 adds its bf16 product to the fp32 sum directly (add_ widens each element as it adds).
            if (low)
            {
                using var product = yc.t().matmul(logitsGradient);
                weightGradient.add_(product, TorchScalars.One);
            }
            else weightGradient.addmm_(yc.t(), logitsGradient);
        }
        outer.MoveToOuter(loss);
        if (rowsGradient is not null) outer.MoveToOuter(rowsGradient);
        if (weightGradient is not null) outer.MoveToOuter(weightGradient);
        return (loss, rowsGradient, weightGradient);
    }

    /// <summary>The autograd node. Arguments: the <see cref="Call"/>, the rows, the weight, the labels.</summary>
    private sealed class Function : torch.autograd.SingleTensorFunction<Function>
    {
        private const string GradientsKey = "gradients";

        public override string Name => "VocabularyCrossEntropy";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var call = (Call)vars[0];
            var (loss, rowsGradient, weightGradient) = Run(call, (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], gradients: true);
            // Kept past the caller's dispose scopes until the backward pass (or the finalizer, if none ever runs).
            rowsGradient?.DetachFromDisposeScope();
            weightGradient?.DetachFromDisposeScope();
            ctx.save_data(GradientsKey, (rowsGradient, weightGradient));
            return loss;
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            CustomAutogradNodes.Release();
            var (rowsGradient, weightGradient) = ((Tensor?, Tensor?))ctx.get_data(GradientsKey);
            Tensor? rows, weight;
            using (var scope = NewDisposeScope())
            {
                rows = rowsGradient?.mul(grad_output);
                weight = weightGradient?.mul(grad_output);
                if (rows is not null) scope.Detach(rows);
                if (weight is not null) scope.Detach(weight);
            }
            rowsGradient?.Dispose();
            weightGradient?.Dispose();
            grad_output.Dispose();   // libtorch keeps its own reference
            var result = new List<Tensor?> { null, rows, weight, null };
            CustomAutogradNodes.HandOver(result.OfType<Tensor>().ToList());
            return result!;
        }
    }
}

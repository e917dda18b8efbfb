namespace CoCa.MLNet.Training.Optimization;

/// <summary>
/// Keeps the weights of the epoch with the best validation loss and says when to stop early: the trainers' one rule
/// (the frozen pooler's and the fine-tuned classifier's). An epoch is better when its loss beats the best by more than
/// <c>minDelta</c>; epochs that end while the learning rate still warms up do not count against patience (a loss
/// that wobbles while the rate rises is no reason to stop).
/// </summary>
internal sealed class BestEpoch<TWeights>(double minDelta, int warmupSteps) where TWeights : class
{
    private double _bestLoss = double.PositiveInfinity;
    private int _sinceBest;

    /// <summary>The kept weights (null until an epoch was validated).</summary>
    public TWeights? Weights { get; private set; }

    /// <summary>The epoch the kept weights are from.</summary>
    public int Epoch { get; private set; }

    /// <summary>Records epoch <paramref name="epoch"/>'s validation loss after <paramref name="steps"/> steps; returns whether it is the best so far (then <paramref name="snapshot"/> is kept).</summary>
    public bool Observe(int epoch, double validationLoss, long steps, Func<TWeights> snapshot)
    {
        if (validationLoss < _bestLoss - minDelta || Weights is null)
        {
            _bestLoss = Math.Min(_bestLoss, validationLoss);
            Epoch = epoch;
            Weights = snapshot();
            _sinceBest = 0;
            return true;
        }
        if (steps > warmupSteps) _sinceBest++;
        return false;
    }

    /// <summary>True after <paramref name="patience"/> counted epochs without a better one (0: never).</summary>
    public bool ShouldStop(int patience) => patience > 0 && _sinceBest >= patience;
}

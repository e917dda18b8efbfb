namespace CoCa.MLNet.Captioning;

/// <summary>
/// open_clip's <c>generate()</c> decoding as it runs today through Hugging Face transformers' <c>generate()</c>
/// (<c>_sample</c> and the vectorized <c>_beam_search</c>, length_penalty 1, early_stopping False), batched over images.
/// </summary>
internal static class CaptionSearch
{
    /// <summary>
    /// Greedy, top-k or top-p: per row, processors (repetition penalty, min length) on the logits of the last position,
    /// then temperature, top-k, top-p, and the arg-max (greedy, or top-k 1) or a draw; a row stops after its end token.
    /// </summary>
    public static long[][] Sample(ICaptionLogitsSource source, int images, CaptionGenerationOptions o, int vocab, long firstImageIndex)
    {
        int stride = o.MaxTokens;
        var sequences = new long[images * stride];
        var lengths = new int[images];
        var done = new bool[images];
        var random = new Random[images];
        for (int i = 0; i < images; i++)
        {
            sequences[i * stride] = o.StartTokenId;
            lengths[i] = 1;
            random[i] = new Random(HashCode.Combine(o.Seed, firstImageIndex + i));
        }
        int topK = o.Decoding switch
        {
            CaptionDecoding.Greedy => 1,
            CaptionDecoding.TopK => o.TopK ?? 1,
            _ => o.TopK ?? 50,
        };
        for (int length = 1; length < o.MaxTokens && done.Contains(false); length++)
        {
            var logits = source.Next(sequences, stride, images, length, null);
            Parallel.For(0, images, i =>
            {
                if (done[i])
                {
                    sequences[i * stride + length] = o.PadTokenId;   // Hugging Face pads finished rows
                    return;
                }
                var scores = logits.AsSpan(i * vocab, vocab);
                LogitsProcessing.RepetitionPenalty(scores, sequences.AsSpan(i * stride, length), o.RepetitionPenalty);
                LogitsProcessing.MinLength(scores, length, o.MinTokens, o.EndTokenId);
                int next;
                if (topK == 1 && o.Decoding != CaptionDecoding.TopP)
                {
                    next = LogitsProcessing.ArgMax(scores);
                }
                else
                {
                    if (o.Temperature != 1.0)
                        for (int v = 0; v < scores.Length; v++) scores[v] = (float)(scores[v] / o.Temperature);
                    LogitsProcessing.TopK(scores, topK);
                    if (o.Decoding == CaptionDecoding.TopP) LogitsProcessing.TopP(scores, o.TopP);
                    next = LogitsProcessing.Sample(scores, random[i]);
                }
                sequences[i * stride + length] = next;
                lengths[i] = length + 1;
                if (next == o.EndTokenId) done[i] = true;
            });
        }
        return Enumerable.Range(0, images).Select(i => sequences.AsSpan(i * stride, lengths[i]).ToArray()).ToArray();
    }

    /// <summary>
    /// Beam search, Hugging Face's vectorized algorithm with open_clip's settings: per image, the 2·beams best
    /// (beam, token) continuations of log_softmax + processors + the beam's running sum; those among the first
    /// <c>beams</c> that end (end token, or the length limit) are offered to the image's <c>beams</c> finished hypotheses
    /// (score = sum / generated tokens, start token excluded), the best <c>beams</c> that do not end run on; an image is
    /// done when its hypotheses are full and the worst of them is at least the best running sum / generated length.
    /// </summary>
    public static long[][] Beam(ICaptionLogitsSource source, int images, CaptionGenerationOptions o, int vocab)
    {
        int beams = o.Beams, keep = 2 * beams, stride = o.MaxTokens, rows = images * beams;
        const float Large = 1.0e9f;
        var running = new long[rows * stride];
        var runningScores = new float[rows];
        var finished = new long[]?[rows];                     // per image, beams slots (null: empty)
        var finishedScores = new float[rows];
        var finishedFlags = new bool[rows];
        var improvable = new bool[images];
        for (int r = 0; r < rows; r++)
        {
            running[r * stride] = o.StartTokenId;
            runningScores[r] = r % beams == 0 ? 0f : -Large;
            finishedScores[r] = -Large;
        }
        Array.Fill(improvable, true);

        int[]? parents = null;
        for (int length = 1; length < o.MaxTokens; length++)
        {
            var logits = source.Next(running, stride, rows, length, parents);
            var nextRunning = new long[rows * stride];
            var nextScores = new float[rows];
            var nextParents = new int[rows];
            bool lastStep = length + 1 >= o.MaxTokens;
            Parallel.For(0, images, i =>
            {
                var candidates = new Candidate[keep];
                int count = 0;
                for (int b = 0; b < beams; b++)
                {
                    int row = i * beams + b;
                    var scores = logits.AsSpan(row * vocab, vocab);
                    LogitsProcessing.LogSoftmax(scores);
                    LogitsProcessing.RepetitionPenalty(scores, running.AsSpan(row * stride, length), o.RepetitionPenalty);
                    LogitsProcessing.MinLength(scores, length, o.MinTokens, o.EndTokenId);
                    float beamScore = runningScores[row];
                    for (int v = 0; v < vocab; v++)
                    {
                        float s = scores[v] + beamScore;
                        if (count == keep && !(s > candidates[keep - 1].Score)) continue;
                        // Insert, keeping descending score and, on ties, ascending flat index (b·V + v).
                        int at = count < keep ? count++ : keep - 1;
                        while (at > 0 && s > candidates[at - 1].Score) { candidates[at] = candidates[at - 1]; at--; }
                        candidates[at] = new Candidate(s, b, v);
                    }
                }

                // Running beams: the best `beams` continuations that do not end (ended ones sink by 1e9).
                var order = Enumerable.Range(0, keep)
                    .Select(c => (Index: c, Score: candidates[c].Score + (Ends(candidates[c]) ? -Large : 0f)))
                    .OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(beams).ToArray();
                for (int j = 0; j < beams; j++)
                {
                    var c = candidates[order[j].Index];
                    int row = i * beams + j, parent = i * beams + c.Beam;
                    Array.Copy(running, parent * stride, nextRunning, row * stride, length);
                    nextRunning[row * stride + length] = c.Token;
                    nextScores[row] = order[j].Score;
                    nextParents[row] = parent;
                }

                // Finished hypotheses: merge the image's slots with this step's ending candidates among the first `beams`.
                var merged = new List<(float Score, long[]? Ids, bool Finished)>(beams + keep);
                for (int b = 0; b < beams; b++)
                {
                    int slot = i * beams + b;
                    merged.Add((finishedScores[slot], finished[slot], finishedFlags[slot]));
                }
                for (int c = 0; c < keep; c++)
                {
                    var cand = candidates[c];
                    bool did = Ends(cand) && c < beams;
                    float score = cand.Score / length;
                    if (!improvable[i]) score -= Large;
                    if (!did) score -= Large;
                    long[]? ids = null;
                    if (did)
                    {
                        ids = new long[length + 1];
                        Array.Copy(running, (i * beams + cand.Beam) * stride, ids, 0, length);
                        ids[length] = cand.Token;
                    }
                    merged.Add((score, ids, did));
                }
                var best = merged.Select((m, k) => (m, k)).OrderByDescending(x => x.m.Score).ThenBy(x => x.k).Take(beams).ToArray();
                for (int b = 0; b < beams; b++)
                {
                    int slot = i * beams + b;
                    (finishedScores[slot], finished[slot], finishedFlags[slot]) = best[b].m;
                }

                // Can a running beam still beat the worst finished hypothesis? (Length counts the new token.)
                float bestRunning = nextScores[i * beams] / length;
                float worst = float.PositiveInfinity;
                for (int b = 0; b < beams; b++) worst = Math.Min(worst, finishedScores[i * beams + b]);
                bool any = false;
                for (int b = 0; b < beams; b++)
                    if (bestRunning > (finishedFlags[i * beams + b] ? worst : -Large)) any = true;
                improvable[i] &= any;
            });

            bool Ends(Candidate c) => c.Token == o.EndTokenId || lastStep;

            running = nextRunning;
            runningScores = nextScores;
            parents = nextParents;
            if (!improvable.Contains(true)) break;
        }
        // The best hypothesis of each image (slot 0 after the sort); Hugging Face pads with the end token, we trim.
        return Enumerable.Range(0, images).Select(i => finished[i * beams] ?? running.AsSpan(i * beams * stride, stride).ToArray()).ToArray();
    }

    private readonly record struct Candidate(float Score, int Beam, int Token);
}

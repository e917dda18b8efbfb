using CoCa.MLNet.Text;

namespace CoCa.MLNet.Captioning;

/// <summary>
/// How to generate captions; the defaults are open_clip's <c>CoCa.generate()</c> defaults (beam search with 6 beams,
/// 30 tokens in all counting the start token, end token allowed from the 5th token on, no repetition penalty).
/// </summary>
public sealed record CaptionGenerationOptions
{
    public CaptionDecoding Decoding { get; init; } = CaptionDecoding.BeamSearch;

    /// <summary>Beams for <see cref="CaptionDecoding.BeamSearch"/> (open_clip: 6).</summary>
    public int Beams { get; init; } = 6;

    /// <summary>Tokens in all, the start token included (open_clip's <c>seq_len</c>, 30); at most 77.</summary>
    public int MaxTokens { get; init; } = 30;

    /// <summary>The end token is blocked while a sequence is shorter than this (open_clip's <c>min_seq_len</c>, 5).</summary>
    public int MinTokens { get; init; } = 5;

    /// <summary>
    /// Tokens kept for sampling: null means 1 for <see cref="CaptionDecoding.TopK"/> (open_clip's default, i.e. greedy) and
    /// 50 for <see cref="CaptionDecoding.TopP"/> (Hugging Face's default, which open_clip's top-p runs with).
    /// </summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus mass for <see cref="CaptionDecoding.TopP"/> (open_clip: 0.1).</summary>
    public double TopP { get; init; } = 0.1;

    /// <summary>Sampling temperature (logits are divided by it before top-k/top-p).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Seed of the sampling random stream (each image has its own stream, so batching does not change captions).</summary>
    public int Seed { get; init; }

    /// <summary>Hugging Face's repetition penalty (1: none): scores of tokens already in the sequence are divided by it (multiplied when negative).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    public int StartTokenId { get; init; } = ClipTokenizer.StartOfTextId;
    public int EndTokenId { get; init; } = ClipTokenizer.EndOfTextId;
    public int PadTokenId { get; init; }

    /// <summary>
    /// Carry the self-attention keys/values between steps (default). False recomputes the whole prefix and the image's
    /// cross-attention keys/values at every step, as open_clip's <c>generate()</c> does (for comparisons).
    /// </summary>
    public bool UseCache { get; init; } = true;

    /// <summary>The largest <see cref="MaxTokens"/>: the text tower's 76 positions plus the next token.</summary>
    public const int MaxSupportedTokens = 77;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate(int vocabularySize)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(MaxTokens is >= 2 and <= MaxSupportedTokens, $"MaxTokens is {MaxTokens}; expected 2 … {MaxSupportedTokens} (the start token counts).");
        Require(MinTokens >= 0 && MinTokens < MaxTokens, $"MinTokens is {MinTokens}; expected 0 … MaxTokens−1 ({MaxTokens - 1}), as open_clip requires seq_len > min_seq_len.");
        Require(Beams >= 1, $"Beams is {Beams}; expected at least 1.");
        Require(TopK is null or >= 1, $"TopK is {TopK}; expected at least 1.");
        Require(TopP > 0 && TopP <= 1, $"TopP is {TopP}; expected a value in (0, 1].");
        Require(Temperature > 0 && double.IsFinite(Temperature), $"Temperature is {Temperature}; expected a positive number.");
        Require(RepetitionPenalty > 0 && double.IsFinite(RepetitionPenalty), $"RepetitionPenalty is {RepetitionPenalty}; expected a positive number.");
        foreach (var (name, id) in new[] { ("StartTokenId", StartTokenId), ("EndTokenId", EndTokenId), ("PadTokenId", PadTokenId) })
            Require(id >= 0 && id < vocabularySize, $"{name} is {id}; expected a token id in [0, {vocabularySize}).");
    }
}

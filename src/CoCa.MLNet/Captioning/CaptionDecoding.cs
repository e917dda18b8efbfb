namespace CoCa.MLNet.Captioning;

/// <summary>How captions are decoded (open_clip's <c>generate(generation_type=…)</c>, run through Hugging Face's generation).</summary>
public enum CaptionDecoding
{
    /// <summary>Beam search over log-probabilities (open_clip's default <c>"beam_search"</c>; <see cref="CaptionGenerationOptions.Beams"/> beams, one group).</summary>
    BeamSearch,

    /// <summary>The arg-max token at every step (open_clip's <c>"top_k"</c> with its default <c>top_k=1</c>).</summary>
    Greedy,

    /// <summary>Sampling among the <see cref="CaptionGenerationOptions.TopK"/> most likely tokens (open_clip's <c>"top_k"</c>).</summary>
    TopK,

    /// <summary>Nucleus sampling (open_clip's <c>"top_p"</c>; Hugging Face also keeps its default top-k of 50 there).</summary>
    TopP,
}

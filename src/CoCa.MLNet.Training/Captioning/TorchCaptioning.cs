using CoCa.MLNet.Captioning;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Training.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Captioning;

/// <summary>
/// Captions from the TorchSharp CoCa itself (no ONNX export): the vision tower's caption tokens, then open_clip's
/// decoding (<see cref="CaptionSearch"/>, the same code the ONNX captioner runs) over <see cref="TorchCaptionLogitsSource"/>.
/// The fine-tuner captions its validation images with it after each epoch.
/// </summary>
internal static class TorchCaptioning
{
    /// <summary>
    /// open_clip's greedy <c>generate()</c> (<c>generation_type="top_k"</c>, <c>top_k=1</c>; end token blocked below 5
    /// tokens) with its 30 tokens capped at what the text tower can read: its context plus the next token.
    /// </summary>
    public static CaptionGenerationOptions Greedy(CoCaModelConfig config)
    {
        var defaults = new CaptionGenerationOptions();
        int maxTokens = Math.Min(defaults.MaxTokens, config.Text.ContextLength + 1);
        return defaults with { Decoding = CaptionDecoding.Greedy, MaxTokens = maxTokens, MinTokens = Math.Min(defaults.MinTokens, maxTokens - 1) };
    }

    /// <summary>
    /// Caption ids (start token first, end token last when it ended early, no padding) of the images
    /// <paramref name="pixels"/> [N, 3, S, S] (on the model's device), decoded together without gradients in eval mode
    /// (the model's mode is restored). <paramref name="firstImageIndex"/> picks the images' sampling streams.
    /// </summary>
    public static long[][] Generate(CoCaModel model, Tensor pixels, CaptionGenerationOptions options, long firstImageIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(options);
        CaptionDecoderOnnx.RequireCaptioning(model.Config);
        options.Validate(model.Config.Multimodal.VocabSize);
        if (options.MaxTokens > model.Config.Text.ContextLength + 1)
            throw new ArgumentException(
                $"MaxTokens is {options.MaxTokens}; this model's text tower reads {model.Config.Text.ContextLength} tokens, so at most {model.Config.Text.ContextLength + 1} (the start token counts).");
        int images = (int)pixels.shape[0];
        if (images == 0) return [];

        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = torch.no_grad();
            using var scope = NewDisposeScope();
            var (_, _, captionTokens) = model.Visual.Encode(pixels);
            using var source = new TorchCaptionLogitsSource(model, captionTokens);
            int vocab = model.Config.Multimodal.VocabSize;
            return options.Decoding == CaptionDecoding.BeamSearch
                ? CaptionSearch.Beam(source, images, options, vocab)
                : CaptionSearch.Sample(source, images, options, vocab, firstImageIndex);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}

using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx.Towers;
using CoCa.MLNet.Onnx;

namespace CoCa.MLNet.Conversion;

/// <summary>open_clip CoCa checkpoint → converted model folder (coca.json + ONNX models).</summary>
public static class CoCaConverter
{
    /// <summary>
    /// Converts <paramref name="checkpoint"/> (a .safetensors/.bin/.pt file, or a Hugging Face hub folder with
    /// open_clip_config.json) into <paramref name="outputDirectory"/>. The configuration comes from
    /// <paramref name="modelName"/> (a built-in such as coca_ViT-B-32), else <paramref name="configPath"/>
    /// (an open_clip_config.json), else the checkpoint folder's own open_clip_config.json. <paramref name="precision"/>:
    /// the vision tower's numbers, Float32 (default, open_clip's) or Int8 (opt-in, dynamically quantized).
    /// </summary>
    public static ConvertedModel Convert(string checkpoint, string outputDirectory, string? modelName = null, string? configPath = null, VisionPrecision precision = VisionPrecision.Float32)
    {
        if (modelName is not null && configPath is not null)
            throw new ArgumentException("Give either a model name or a config file, not both.");
        var loaded = CheckpointLoader.Load(checkpoint);
        var config = modelName is not null ? CoCaConfigs.Get(modelName)
            : configPath is not null ? CoCaConfigs.FromOpenClipConfigFile(configPath)
            : loaded.Config ?? throw new ArgumentException(
                $"'{checkpoint}' carries no open_clip_config.json: name the architecture (--model {string.Join("|", CoCaConfigs.Names)}) or pass --config open_clip_config.json.");
        return Convert(loaded.Weights, config, outputDirectory, loaded.WeightsPath, precision);
    }

    /// <summary>
    /// Converts an in-memory state dict with a known configuration: always the image tower (<c>vision.onnx</c>), the
    /// unimodal text tower (<c>text.onnx</c>) when the checkpoint has <c>text.*</c> tensors, and the captioning decoder
    /// (<c>caption_image.onnx</c>, <c>caption_step.onnx</c>) when it also has <c>text_decoder.*</c> and can caption
    /// (<see cref="CoCaModelConfig.CaptioningUnsupportedReason"/>). A checkpoint with some but not
    /// all of the text tensors is rejected, naming the first missing one.
    /// </summary>
    internal static ConvertedModel Convert(StateDict weights, CoCaModelConfig config, string outputDirectory, string? source = null, VisionPrecision precision = VisionPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(weights);
        CheckpointValidator.ValidateVision(config, weights);
        bool hasText = HasTextTower(weights);
        if (hasText) CheckpointValidator.ValidateText(config, weights);
        Directory.CreateDirectory(outputDirectory);
        // The manifest is written last and removed first: a folder with coca.json is always complete.
        File.Delete(Path.Combine(outputDirectory, ConvertedModel.ManifestFile));
        AtomicFile.Write(Path.Combine(outputDirectory, ConvertedModel.VisionFile), stream => VisionTowerOnnx.Write(config, weights, stream, precision));
        var textPath = Path.Combine(outputDirectory, ConvertedModel.TextFile);
        if (hasText) AtomicFile.Write(textPath, stream => TextTowerOnnx.Write(config, weights, stream));
        else File.Delete(textPath);   // a stale text tower from an earlier conversion must not pair with these weights
        // The captioning decoder: when the checkpoint has text_decoder.* and open_clip could caption with it.
        bool hasCaptioner = hasText && CaptionDecoderOnnx.HasDecoder(weights) && config.CanCaption;
        var captionPaths = new[] { Path.Combine(outputDirectory, ConvertedModel.CaptionImageFile), Path.Combine(outputDirectory, ConvertedModel.CaptionStepFile) };
        if (hasCaptioner)
        {
            var (image, step) = CaptionDecoderOnnx.CreateGraphs(config, weights);
            AtomicFile.Write(captionPaths[0], stream => image.WriteTo(stream));
            AtomicFile.Write(captionPaths[1], stream => step.WriteTo(stream));
        }
        else
        {
            foreach (var path in captionPaths) File.Delete(path);
        }
        ConvertedModel.WriteManifest(outputDirectory, config, source, hasText, hasCaptioner);
        return ConvertedModel.Open(outputDirectory);
    }

    /// <summary>True when the checkpoint carries the unimodal text tower (<c>text.*</c>; <c>text_decoder.*</c> does not count).</summary>
    /// <summary>
    /// Why a checkpoint of <paramref name="config"/> cannot caption (open_clip's requirement: text width = multimodal
    /// width = embed_dim), or null when it can.
    /// </summary>
    [Obsolete("Use CoCaModelConfig.CaptioningUnsupportedReason (or CanCaption): the one answer, on the configuration.")]
    public static string? WhyCannotCaption(CoCaModelConfig config) => (config ?? throw new ArgumentNullException(nameof(config))).CaptioningUnsupportedReason;

    internal static bool HasTextTower(StateDict weights) => weights.KeysWithPrefix("text.").Any();
}

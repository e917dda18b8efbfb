using System.CommandLine;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Onnx;

namespace CoCa.MLNet.Cli.Commands;

/// <summary><c>coca convert &lt;checkpoint&gt; --out DIR [--model NAME | --config FILE]</c></summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "open_clip checkpoint: a .safetensors/.bin/.pt file, or a folder with open_clip_config.json and weights" }
            .Existing("an open_clip checkpoint: a .safetensors/.bin/.pt file, or a folder with open_clip_config.json and weights");
        var output = new Option<string>("--out", "-o") { Description = "Folder to write the converted model to", Required = true }
            .OutputFolder("the folder to write the converted model to");
        var model = new Option<string?>("--model", "-m") { Description = $"Built-in architecture: {string.Join(", ", CoCaConfigs.Names)}" }
            .OneOf(CoCaConfigs.Names, ignoreCase: true);
        var config = new Option<string?>("--config", "-c") { Description = "An open_clip_config.json (or open_clip model config JSON) describing the architecture" }
            .Existing("an open_clip_config.json (or open_clip model config JSON)");
        var precision = new Option<string>("--precision") { Description = "Vision tower numbers: fp32 (open_clip's, default) or int8 (opt-in: Linear layers dynamically quantized, faster on CPUs with VNNI)", DefaultValueFactory = _ => "fp32" };
        precision.OneOf(["fp32", "int8"]);
        var command = new Command("convert", "Convert an open_clip CoCa checkpoint into ONNX models and coca.json") { checkpoint, output, model, config, precision };
        command.Validators.Add(r =>
        {
            if (r.Given(model) && r.Given(config)) r.AddError($"Give {model.Name} (a built-in architecture) or {config.Name} (a config file), not both.");
        });
        command.SetAction(parse =>
        {
            var vision = parse.GetValue(precision) == "int8" ? VisionPrecision.Int8 : VisionPrecision.Float32;
            var result = CoCaConverter.Convert(parse.GetValue(checkpoint)!, parse.GetValue(output)!, parse.GetValue(model), parse.GetValue(config), vision);
            var c = result.Config;
            Console.WriteLine($"Converted {c.Name} → {result.Directory}");
            Console.WriteLine($"  vision: {ConvertedModel.VisionFile}  {(vision == VisionPrecision.Int8 ? "int8 (dynamically quantized), " : "")}image {c.Vision.ImageSize}x{c.Vision.ImageSize}, tokens [{c.Vision.TokenCount}, {c.Vision.Width}], embedding [{c.EmbedDim}]");
            if (result.HasText)
                Console.WriteLine($"  text:   {ConvertedModel.TextFile}  context {c.Text.ContextLength}, embedding [{c.EmbedDim}]");
            else
                Console.WriteLine("  text:   none (the checkpoint has no text.* weights; embed-text and zero-shot need them)");
            if (result.HasCaptioner)
                Console.WriteLine($"  caption: {ConvertedModel.CaptionImageFile} + {ConvertedModel.CaptionStepFile}  decoder {c.Multimodal.Layers} layers, width {c.Multimodal.Width}, KV cache");
            else
                Console.WriteLine($"  caption: none ({c.CaptioningUnsupportedReason ?? "the checkpoint has no text_decoder.* (or text.*) weights"})");
            return 0;
        });
        return command;
    }
}

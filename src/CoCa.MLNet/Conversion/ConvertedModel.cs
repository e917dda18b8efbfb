using CoCa.MLNet.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Conversion;

/// <summary>
/// A converted CoCa model: the folder <c>coca convert</c> writes. It holds <c>coca.json</c> (the model and
/// preprocessing configuration) and the ONNX models (<c>vision.onnx</c>, and <c>text.onnx</c> when converted).
/// </summary>
public sealed class ConvertedModel
{
    public const string ManifestFile = "coca.json";
    public const string VisionFile = "vision.onnx";
    public const string TextFile = "text.onnx";
    public const string CaptionImageFile = "caption_image.onnx";
    public const string CaptionStepFile = "caption_step.onnx";
    internal const string FormatName = "coca.mlnet.converted";
    internal const int FormatVersion = 1;

    internal static readonly JsonSerializerOptions Json = CoCaJson.Create(indented: true, ignoreNulls: true);

    private ConvertedModel(string directory, Manifest manifest)
    {
        Directory = directory;
        Config = manifest.Config;
        Source = manifest.Source;
        HasText = manifest.Text is not null;
        HasCaptioner = manifest.Captioner is not null;
    }

    /// <summary>The folder holding the model.</summary>
    public string Directory { get; }

    public CoCaModelConfig Config { get; }

    /// <summary>The checkpoint it was converted from.</summary>
    public string? Source { get; }

    public bool HasText { get; }

    /// <summary>True when the captioning decoder was converted (<see cref="CaptionImageFile"/>, <see cref="CaptionStepFile"/>).</summary>
    public bool HasCaptioner { get; }

    public string VisionModelPath => Path.Combine(Directory, VisionFile);
    public string TextModelPath => Path.Combine(Directory, TextFile);
    public string CaptionImageModelPath => Path.Combine(Directory, CaptionImageFile);
    public string CaptionStepModelPath => Path.Combine(Directory, CaptionStepFile);

    /// <summary>Opens a converted model folder (or its coca.json).</summary>
    public static ConvertedModel Open(string path)
    {
        var dir = File.Exists(path) && Path.GetFileName(path) == ManifestFile ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        var manifestPath = Path.Combine(dir, ManifestFile);
        if (!System.IO.Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Model folder '{path}' does not exist; create one with `coca convert <checkpoint> --out {path}`.");
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"'{dir}' is not a converted CoCa model: it has no {ManifestFile} (create one with `coca convert`).", manifestPath);
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), Json)
                ?? throw new InvalidDataException($"'{manifestPath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{manifestPath}' is not valid JSON: {e.Message}", e);
        }
        if (manifest.Format != FormatName || manifest.Version > FormatVersion)
            throw new InvalidDataException($"'{manifestPath}' is '{manifest.Format}' version {manifest.Version}; expected '{FormatName}' up to version {FormatVersion}.");
        var model = new ConvertedModel(dir, manifest);
        if (!File.Exists(model.VisionModelPath))
            throw new FileNotFoundException($"Converted model '{dir}' lacks {VisionFile}.", model.VisionModelPath);
        if (model.HasText && !File.Exists(model.TextModelPath))
            throw new FileNotFoundException($"Converted model '{dir}' lists a text tower but lacks {TextFile}.", model.TextModelPath);
        foreach (var part in model.HasCaptioner ? new[] { model.CaptionImageModelPath, model.CaptionStepModelPath } : [])
            if (!File.Exists(part))
                throw new FileNotFoundException($"Converted model '{dir}' lists a caption decoder but lacks {Path.GetFileName(part)}.", part);
        return model;
    }

    /// <summary>Writes coca.json (after the ONNX files, so a folder with a manifest is complete).</summary>
    internal static void WriteManifest(string directory, CoCaModelConfig config, string? source, bool hasText, bool hasCaptioner = false)
    {
        var manifest = new Manifest
        {
            Format = FormatName,
            Version = FormatVersion,
            Config = config,
            Source = source,
            Vision = new PartInfo { File = VisionFile, Tokens = [config.Vision.TokenCount, config.Vision.Width], EmbeddingDim = config.EmbedDim },
            Text = hasText ? new PartInfo { File = TextFile, EmbeddingDim = config.EmbedDim, ContextLength = config.Text.ContextLength } : null,
            Captioner = hasCaptioner ? new PartInfo { File = CaptionStepFile, EmbeddingDim = config.EmbedDim, ContextLength = config.Multimodal.ContextLength } : null,
        };
        var path = Path.Combine(directory, ManifestFile);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(manifest, Json));
    }

    internal sealed class Manifest
    {
        public string Format { get; set; } = "";
        public int Version { get; set; }
        public CoCaModelConfig Config { get; set; } = new();
        public string? Source { get; set; }
        public PartInfo? Vision { get; set; }
        public PartInfo? Text { get; set; }
        public PartInfo? Captioner { get; set; }
    }

    internal sealed class PartInfo
    {
        public string File { get; set; } = "";
        public int[]? Tokens { get; set; }
        public int EmbeddingDim { get; set; }
        public int? ContextLength { get; set; }
    }
}

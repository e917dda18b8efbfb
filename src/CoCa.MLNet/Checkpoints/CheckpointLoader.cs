using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Checkpoints;

/// <summary>A checkpoint's weights, the open_clip config found beside them (if any) and where both came from.</summary>
internal sealed record LoadedCheckpoint(StateDict Weights, CoCaModelConfig? Config, string WeightsPath)
{
    /// <summary>The <c>open_clip_config.json</c> the config was read from, or null.</summary>
    public string? ConfigPath { get; init; }
}

/// <summary>
/// Loads open_clip CoCa weights from a file (.safetensors, or torch.save .bin/.pt/.pth; recognised by content, not
/// name) or from a folder in the Hugging Face hub layout (<c>open_clip_config.json</c> plus
/// <c>open_clip_model.safetensors</c>, else <c>open_clip_pytorch_model.bin</c>, else the folder's only weights file).
/// An <c>open_clip_config.json</c> next to the weights is parsed into <see cref="LoadedCheckpoint.Config"/>.
/// </summary>
internal static class CheckpointLoader
{
    public const string HubConfigFile = "open_clip_config.json";
    public const string HubSafetensorsFile = "open_clip_model.safetensors";
    public const string HubTorchFile = "open_clip_pytorch_model.bin";

    private static readonly string[] SafetensorsExtensions = [".safetensors"];
    private static readonly string[] TorchExtensions = [".bin", ".pt", ".pth"];

    /// <summary>Extensions of the weight files this loader reads (safetensors, torch.save), the one list.</summary>
    public static IReadOnlyList<string> WeightFileExtensions { get; } = [.. SafetensorsExtensions, .. TorchExtensions];

    public static LoadedCheckpoint Load(string fileOrFolder) => Load(fileOrFolder, include: null);

    /// <summary>Loads only the tensors whose names pass <paramref name="include"/> (e.g. skip <c>text_decoder.*</c> to save memory).</summary>
    /// <exception cref="FileNotFoundException">Neither a file nor a folder with weights exists there; the message says what was looked for.</exception>
    /// <exception cref="CheckpointException">The weights cannot be read.</exception>
    /// <exception cref="CoCaConfigException">The <c>open_clip_config.json</c> beside them is invalid or unsupported.</exception>
    public static LoadedCheckpoint Load(string fileOrFolder, Func<string, bool>? include)
    {
        ArgumentNullException.ThrowIfNull(fileOrFolder);
        var full = Path.GetFullPath(fileOrFolder);
        string weights;
        if (Directory.Exists(full)) weights = FindWeightsInFolder(full);
        else if (File.Exists(full)) weights = full;
        else throw new FileNotFoundException(
            $"Checkpoint '{full}' does not exist: expected a weights file (.safetensors, .bin, .pt, .pth) or a Hugging Face open_clip folder " +
            $"({HubConfigFile} with {HubSafetensorsFile} or {HubTorchFile}).", full);

        var state = ReadWeights(weights, include);
        var configPath = Path.Combine(Path.GetDirectoryName(weights)!, HubConfigFile);
        var config = File.Exists(configPath) ? CoCaConfigs.FromOpenClipConfigFile(configPath) : null;
        return new LoadedCheckpoint(state, config, weights) { ConfigPath = config is null ? null : configPath };
    }

    /// <summary>Reads a weights file by its content: safetensors or torch.save zip (legacy torch files get a clear error).</summary>
    public static StateDict ReadWeights(string path, Func<string, bool>? include = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Weights file '{full}' does not exist.", full);
        return CheckpointFormat.Detect(full) switch
        {
            CheckpointFileKind.Safetensors => SafetensorsReader.Read(full, include),
            CheckpointFileKind.TorchZip or CheckpointFileKind.LegacyTorch => TorchCheckpointReader.Read(full, include),
            _ when HasExtension(full, SafetensorsExtensions) => SafetensorsReader.Read(full, include), // reports what is wrong
            _ when HasExtension(full, TorchExtensions) => TorchCheckpointReader.Read(full, include),
            _ => throw new CheckpointException(
                $"'{full}' is neither a safetensors file nor a PyTorch (torch.save) checkpoint; CoCa.MLNet reads open_clip weights in those two formats."),
        };
    }

    private static string FindWeightsInFolder(string folder)
    {
        foreach (var preferred in new[] { HubSafetensorsFile, HubTorchFile })
        {
            var candidate = Path.Combine(folder, preferred);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var extensions in new[] { SafetensorsExtensions, TorchExtensions })
        {
            var files = Directory.EnumerateFiles(folder).Where(f => HasExtension(f, extensions)).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 1) return files[0];
            if (files.Count > 1)
                throw new CheckpointException(
                    $"Folder '{folder}' holds several weights files ({string.Join(", ", files.Select(Path.GetFileName))}) and none is named " +
                    $"{(extensions == SafetensorsExtensions ? HubSafetensorsFile : HubTorchFile)}; pass the file to load.");
        }
        throw new FileNotFoundException(
            $"Folder '{folder}' has no open_clip weights: looked for {HubSafetensorsFile}, {HubTorchFile}, then a single *.safetensors or *.bin/*.pt/*.pth file.",
            Path.Combine(folder, HubSafetensorsFile));
    }

    private static bool HasExtension(string path, string[] extensions) =>
        extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}

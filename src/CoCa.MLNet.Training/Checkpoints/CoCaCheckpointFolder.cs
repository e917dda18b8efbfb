using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Training.Devices;
using CoCa.MLNet.Training.Modules;

namespace CoCa.MLNet.Training.Checkpoints;

/// <summary>
/// A whole CoCa in open_clip's Hugging Face hub layout: <c>open_clip_config.json</c> + <c>open_clip_model.safetensors</c>
/// (or any weights <see cref="CheckpointLoader"/> reads). A folder with only <c>open_clip_config.json</c> means
/// "train from scratch": the model gets open_clip's initialisation (<see cref="CoCaInitializer"/>).
/// </summary>
public static class CoCaCheckpointFolder
{
    /// <summary>True when <paramref name="folder"/> holds an <c>open_clip_config.json</c> and no weights file.</summary>
    public static bool IsConfigOnly(string folder) =>
        Directory.Exists(folder) && File.Exists(Path.Combine(folder, CheckpointLoader.HubConfigFile))
        && !Directory.EnumerateFiles(folder).Any(f => CheckpointLoader.WeightFileExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()));

    /// <summary>
    /// Loads the CoCa in <paramref name="folder"/> (config + weights), or initialises one from its config alone with
    /// <paramref name="seed"/>. Errors name the folder and what was expected.
    /// </summary>
    /// <exception cref="FileNotFoundException">No folder, or no <c>open_clip_config.json</c> in it.</exception>
    /// <exception cref="CheckpointException">The weights do not fit the config.</exception>
    public static CoCaModel Load(string folder, long seed = 0)
    {
        var full = RequireCheckpointFolder(folder);
        var configPath = Path.Combine(full, CheckpointLoader.HubConfigFile);
        LibTorchLoadCheck.EnsureLoadable();
        if (IsConfigOnly(full))
        {
            var config = CoCaConfigs.FromOpenClipConfigFile(configPath);
            var model = new CoCaModel(config);
            CoCaInitializer.Initialize(model, seed);
            return model;
        }
        var loaded = CheckpointLoader.Load(full);
        return CoCaModel.FromStateDict(loaded.Config!, loaded.Weights);
    }

    /// <summary>
    /// Checks, before any work, that <paramref name="folder"/> is an open_clip checkpoint folder (it holds
    /// <c>open_clip_config.json</c>); a folder written by <c>coca convert</c> (ONNX models and <c>coca.json</c>) is
    /// named as such, with the checkpoint it came from. Returns the full path.
    /// </summary>
    /// <exception cref="FileNotFoundException">No folder, or no <c>open_clip_config.json</c> in it.</exception>
    public static string RequireCheckpointFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var full = Path.GetFullPath(folder);
        var configPath = Path.Combine(full, CheckpointLoader.HubConfigFile);
        if (Directory.Exists(full) && File.Exists(configPath)) return full;
        if (File.Exists(Path.Combine(full, ConvertedModel.ManifestFile)))
        {
            string? source = null;
            try { source = ConvertedModel.Open(full).Source; }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { } // the folder is named either way
            throw new FileNotFoundException(
                $"'{full}' is a converted ONNX model folder (written by coca convert); this needs an open_clip checkpoint folder " +
                $"({CheckpointLoader.HubConfigFile} with {CheckpointLoader.HubSafetensorsFile}){(source is null ? "" : $", such as '{source}' it was converted from")}.", configPath);
        }
        throw new FileNotFoundException(
            $"Checkpoint folder '{full}' has no {CheckpointLoader.HubConfigFile}: expected open_clip's hub layout " +
            $"({CheckpointLoader.HubConfigFile} with {CheckpointLoader.HubSafetensorsFile}), or the config alone to train from scratch.", configPath);
    }

    /// <summary>Writes <paramref name="model"/> as <c>open_clip_config.json</c> + <c>open_clip_model.safetensors</c> into <paramref name="folder"/>.</summary>
    public static void Save(CoCaModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointLoader.HubSafetensorsFile), model.ToStateDict(),
            new Dictionary<string, string> { ["format"] = "pt", ["writer"] = "CoCa.MLNet" });
        OpenClipConfigWriter.Write(model.Config, folder);
    }
}

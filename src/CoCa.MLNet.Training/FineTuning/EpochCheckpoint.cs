using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.IO;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// One complete epoch checkpoint of a fine-tuning run (<c>checkpoints/epoch_N</c>, see <see cref="EpochCheckpointStore"/>):
/// the model in open_clip's hub layout, the optimizer's moments and the run's state, what a resumed run continues from.
/// </summary>
internal sealed record EpochCheckpoint(string Folder, int Epoch)
{
    internal const string OptimizerFile = "optimizer.safetensors";

    /// <summary>Written last: a folder holding it is a complete checkpoint.</summary>
    internal const string StateFile = "trainer_state.json";

    /// <summary>The model (hub layout), the optimizer's moments and the run's state into <paramref name="folder"/>.</summary>
    public static void Write(string folder, CoCaModel model, AdamWOptimizer optimizer, FineTuneRunState state)
    {
        CoCaCheckpointFolder.Save(model, folder);
        SafetensorsWriter.Write(Path.Combine(folder, OptimizerFile), optimizer.ExportState());
        File.WriteAllText(Path.Combine(folder, StateFile), state.ToJson());
    }

    /// <summary>The run this checkpoint belongs to and the epoch and step it was saved after.</summary>
    public FineTuneRunState ReadState() => FineTuneRunState.Read(Path.Combine(Folder, StateFile));

    public CoCaModel LoadModel() => CoCaCheckpointFolder.Load(Folder);

    /// <summary>Restores the optimizer's moments and step count (its parameter groups must be the saved run's).</summary>
    public void RestoreOptimizer(AdamWOptimizer optimizer) =>
        optimizer.ImportState(SafetensorsReader.Read(Path.Combine(Folder, OptimizerFile)));

    /// <summary>Copies the model files (hub layout) into <paramref name="folder"/>, each atomically (<see cref="AtomicFile"/>).</summary>
    public void CopyModelTo(string folder)
    {
        foreach (var file in new[] { CheckpointLoader.HubConfigFile, CheckpointLoader.HubSafetensorsFile })
            AtomicFile.Copy(Path.Combine(Folder, file), Path.Combine(folder, file));
    }
}

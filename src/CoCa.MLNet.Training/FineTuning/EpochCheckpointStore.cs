using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Optimization;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// The epoch checkpoints of a fine-tuning run's output folder (<c>checkpoints/epoch_N</c>). Each is written to a
/// temporary folder (<c>checkpoints/.epoch_N.*.tmp</c>) and renamed when complete, so a killed save leaves no
/// half-written checkpoint, only a temporary folder that <see cref="RemoveAbandonedSaves"/> removes. Used only while
/// <see cref="FineTuneOutputFolder"/> holds the folder's lock: no other run writes here meanwhile.
/// </summary>
internal sealed class EpochCheckpointStore
{
    internal const string FolderName = "checkpoints";
    private const string EpochPrefix = "epoch_";

    /// <summary>The checkpoints of <paramref name="outputFolder"/> (a full path), in its <c>checkpoints</c> folder.</summary>
    public EpochCheckpointStore(string outputFolder)
    {
        OutputFolder = outputFolder;
        FullPath = Path.Combine(outputFolder, FolderName);
    }

    public string OutputFolder { get; }

    public string FullPath { get; }

    /// <summary>The highest-numbered complete epoch checkpoint (one with its state file), or null.</summary>
    public EpochCheckpoint? Latest()
    {
        if (!Directory.Exists(FullPath)) return null;
        EpochCheckpoint? best = null;
        foreach (var dir in Directory.EnumerateDirectories(FullPath, EpochPrefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)[EpochPrefix.Length..], out int epoch)) continue;
            if (!File.Exists(Path.Combine(dir, EpochCheckpoint.StateFile))) continue;
            if (best is null || epoch > best.Epoch) best = new EpochCheckpoint(dir, epoch);
        }
        return best;
    }

    /// <summary>The checkpoint a resumed run continues from: <see cref="Latest"/>, which must exist.</summary>
    /// <exception cref="InvalidOperationException">There is no complete epoch checkpoint.</exception>
    public EpochCheckpoint LatestToResume() => Latest() ?? throw NothingToResume(OutputFolder);

    /// <summary>Resume was asked for in <paramref name="outputFolder"/> (a full path), which holds no checkpoint to continue.</summary>
    public static InvalidOperationException NothingToResume(string outputFolder) => new(
        $"Nothing to resume in '{outputFolder}': it holds no complete epoch checkpoint ({FolderName}/{EpochPrefix}N). Train without Resume (--resume) to start a run there.");

    /// <summary>
    /// Writes the checkpoint of epoch <paramref name="state"/>.Epoch (<see cref="EpochCheckpoint.Write"/>) into a
    /// temporary folder, then renames it to <c>checkpoints/epoch_N</c> (replacing one of that number): the state file
    /// appears with a complete checkpoint or not at all. A failed save leaves nothing behind.
    /// </summary>
    public EpochCheckpoint Save(CoCaModel model, AdamWOptimizer optimizer, FineTuneRunState state) =>
        new(Save(state.Epoch, folder => EpochCheckpoint.Write(folder, model, optimizer, state)), state.Epoch);

    private string Save(int epoch, Action<string> write)
    {
        var folder = Path.Combine(FullPath, EpochPrefix + epoch);
        var temp = Path.Combine(FullPath, $".{EpochPrefix}{epoch}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temp, folder);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { /* the save's own failure matters more */ }
            throw;
        }
        return folder;
    }

    /// <summary>The temporary folders of saves whose run was killed: no run writes here while this one holds the lock.</summary>
    public void RemoveAbandonedSaves(IProgress<string>? log)
    {
        if (!Directory.Exists(FullPath)) return;
        foreach (var temp in Directory.EnumerateDirectories(FullPath, $".{EpochPrefix}*.tmp").ToList())
        {
            Directory.Delete(temp, recursive: true);
            log?.Report($"Removed '{temp}', an epoch checkpoint whose save was interrupted.");
        }
    }
}

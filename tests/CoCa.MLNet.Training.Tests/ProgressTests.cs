using System.Diagnostics;
using CoCa.MLNet.Training.FineTuning;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Training.Tests.FineTuning;
using CoCa.MLNet.Training.Tests.Pooling;
using Microsoft.ML;

namespace CoCa.MLNet.Training.Tests;

/// <summary>
/// The trainers' progress, through the library's <see cref="InlineProgress{T}"/>, arrives in order and on time: on the
/// training thread, each report before the next epoch's (for the pooler: while the MLContext log has just reached
/// that epoch), all of them before Train returns.
/// </summary>
public sealed class ProgressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-progress-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PoolerReports_ArriveInOrder_OnTheTrainingThread_AsEachEpochEnds()
    {
        var ml = new MLContext(seed: 1);
        var epochLogLines = 0;
        ml.Log += (_, e) => { if (e.Source.StartsWith("AttentionalPooler", StringComparison.Ordinal) && e.Message.Contains("samples/s")) Interlocked.Increment(ref epochLogLines); };
        var rows = SyntheticTokens.Needle(60, 6, 8, 3, seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, rows, 6, 8)).Transform(SyntheticTokens.ToDataView(ml, rows, 6, 8));
        var seen = new List<(int Epoch, int Thread, int LogLines)>();
        var options = new AttentionalPoolerOptions
        {
            NumberOfEpochs = 5, EarlyStoppingPatience = 0, BatchSize = 8, Seed = 1, NumberOfHeads = 2,
            Progress = new InlineProgress<AttentionalPoolerProgress>(p => seen.Add((p.Epoch, Environment.CurrentManagedThreadId, Volatile.Read(ref epochLogLines)))),
        };
        int thread = Environment.CurrentManagedThreadId;
        var result = ml.MulticlassClassification.Trainers.AttentionalPooler(options).Train(data);

        Assert.Equal(result.History.Count, seen.Count);                       // all delivered before Train returned
        Assert.Equal(Enumerable.Range(1, seen.Count), seen.Select(s => s.Epoch));   // in order, none twice
        Assert.All(seen, s => Assert.Equal(thread, s.Thread));                // inline, on the training thread
        Assert.Equal(Enumerable.Range(1, seen.Count), seen.Select(s => s.LogLines)); // epoch k reported before epoch k+1's log line
    }

    [FixtureFact]
    public void FineTunerReports_ArriveInOrder_OnTheTrainingThread()
    {
        var pairs = ImageCaptionPairs.Read(TinyPairs.WriteCsv(_dir));
        var scratch = TinyPairs.ConfigOnlyCheckpoint(_dir);
        var seen = new List<(CoCaFineTuneProgress Report, int Thread)>();
        int thread = Environment.CurrentManagedThreadId;
        var result = CoCaFineTuner.Train(TinyPairs.Options(scratch, Path.Combine(_dir, "out"), epochs: 1,
            progress: p => seen.Add((p, Environment.CurrentManagedThreadId))), pairs);

        Assert.Equal(result.Steps + 1, seen.Count);                     // a report per step, then the epoch's, all before Train returned
        Assert.Equal(Enumerable.Range(1, (int)result.Steps).Select(s => (long)s), seen.Where(s => !s.Report.EndOfEpoch).Select(s => s.Report.Step));
        Assert.True(seen[^1].Report.EndOfEpoch);
        Assert.All(seen, s => Assert.Equal(thread, s.Thread));   // inline: in step order, on the training thread
    }

    [Fact]
    public void InlineProgress_RunsTheActionNow_AndNeedsOne()
    {
        int calls = 0;
        IProgress<int> progress = new InlineProgress<int>(v => calls += v);
        progress.Report(2);
        Assert.Equal(2, calls);
        Assert.Throws<ArgumentNullException>(() => new InlineProgress<int>(null!));
    }
}

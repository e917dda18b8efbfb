using CoCa.MLNet.Featurization;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Tests.Runtime;

public class OnnxThreadsTests
{
    [Fact]
    public void ByDefaultSessionsRunOneIntraOpThreadPerAvailableCore()
    {
        Assert.Equal(Environment.ProcessorCount, CpuBudget.AvailableCores);
        var defaults = new OnnxExecutionOptions();
        Assert.Equal(0, defaults.IntraOpNumThreads); // "auto", resolved where the session is made
        Assert.Equal(CpuBudget.AvailableCores, defaults.ResolvedIntraOpNumThreads);
        using var so = OnnxSessions.CreateSessionOptions(defaults, "a test model");
        Assert.Equal(CpuBudget.AvailableCores, so.IntraOpNumThreads);
    }

    [Fact]
    public void AnExplicitThreadCountWins()
    {
        var three = new OnnxExecutionOptions { IntraOpNumThreads = 3 };
        Assert.Equal(3, three.ResolvedIntraOpNumThreads);
        using var so = OnnxSessions.CreateSessionOptions(three, "a test model");
        Assert.Equal(3, so.IntraOpNumThreads);
    }

    [Fact]
    public void ANegativeOrAbsurdThreadCount_IsRefused_NotTakenAsAllCoresOrMinutesOfThreadStarts()
    {
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExecutionOptions { IntraOpNumThreads = -2 });
        Assert.StartsWith("IntraOpNumThreads is -2; expected 0 (one thread per core) or a thread count up to 1024.", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExecutionOptions { IntraOpNumThreads = 10_000 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExecutionOptions { InterOpNumThreads = -1 });
        Assert.Equal(1024, new OnnxExecutionOptions { IntraOpNumThreads = 1024 }.IntraOpNumThreads);
    }

    [FixtureFact]
    public void EncoderTakesTheCoresAndPreprocessingTheRest()
    {
        using var extractor = CoCaImageFeatureExtractor.Open(TinyModel.Directory);
        Assert.Equal(CpuBudget.AvailableCores, extractor.Encoder.IntraOpThreads);
        Assert.Equal(Math.Max(1, CpuBudget.AvailableCores - extractor.Encoder.IntraOpThreads), extractor.Encoder.OverlappingThreads);
        using var one = CoCaImageFeatureExtractor.Open(TinyModel.Directory, new OnnxExecutionOptions { IntraOpNumThreads = 1 });
        Assert.Equal(Math.Max(1, CpuBudget.AvailableCores - 1), one.Encoder.OverlappingThreads);
    }

    [FixtureFact]
    public void CpuAffinityLimitsTheDefault()
    {
        // `taskset -c 0` leaves the process one CPU: the default must follow (sched_getaffinity), whatever the machine has.
        if (!File.Exists("/usr/bin/taskset")) Assert.Fail("taskset (util-linux) is needed for this test.");
        var dir = Directory.CreateTempSubdirectory("coca-threads-");
        try
        {
            var output = Path.Combine(dir.FullName, "e.npy");
            var pinned = CliProcess.RunUnder(["/usr/bin/taskset", "-c", "0"], "featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images"), "--output", "embedding", "--out", output);
            Assert.True(pinned.ExitCode == 0, pinned.StdErr);
            Assert.Contains("ONNX Runtime: 1 intra-op threads, 1 decoding ahead (1 cores available)", pinned.StdOut);
            var free = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images"), "--output", "embedding", "--out", output);
            Assert.Contains($"ONNX Runtime: {Environment.ProcessorCount} intra-op threads", free.StdOut);
            var forced = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", Fixtures.Tiny("images"), "--output", "embedding", "--out", output, "--threads", "3");
            Assert.Contains("ONNX Runtime: 3 intra-op threads", forced.StdOut);
        }
        finally { dir.Delete(true); }
    }
}

using CoCa.MLNet.Cli.Features;
using System.Runtime.InteropServices;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Transforms;
using CoCa.MLNet.Demo;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Cli.Tests.Commands;

/// <summary><c>coca featurize --shard I/N</c>: N processes, one shard each, together write what one process writes.</summary>
public class ShardedFeaturizeCliTests
{
    [FixtureFact]
    public void ShardProcessesTogetherEqualTheSingleProcessOutputBitForBit()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-");
        try
        {
            var data = Path.Combine(dir.FullName, "data");
            SyntheticImageDataset.Generate(data, classCount: 2, perClass: 7, width: 64, height: 48, seed: 5); // 14 images
            string[] common = ["featurize", "--model", TinyModel.Directory, "--data", data, "--batch-size", "3"];

            var single = Path.Combine(dir.FullName, "single.npy");
            Assert.Equal(0, Check(CliProcess.Run([.. common, "--out", single])));
            var singleParquet = Path.Combine(dir.FullName, "single.parquet");
            Assert.Equal(0, Check(CliProcess.Run([.. common, "--format", "parquet", "--out", singleParquet])));

            // Three shard processes at once per format, as an Indexed Job or a job array would run them.
            const int n = 3;
            var npyShards = Path.Combine(dir.FullName, "npy-shards");
            var parquetShards = Path.Combine(dir.FullName, "parquet-shards");
            var runs = Enumerable.Range(0, n).SelectMany(i => new[]
            {
                Task.Run(() => CliProcess.Run([.. common, "--shard", $"{i}/{n}", "--out", npyShards])),
                Task.Run(() => CliProcess.Run([.. common, "--format", "parquet", "--shard", $"{i}/{n}", "--out", parquetShards])),
            }).ToArray();
            Task.WaitAll(runs);
            Assert.All(runs, r => Assert.Equal(0, Check(r.Result)));

            var files = Directory.GetFiles(npyShards, "*.npy").Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["part-00000-of-00003.npy", "part-00001-of-00003.npy", "part-00002-of-00003.npy"], files.Select(Path.GetFileName));
            var expected = Npy.ReadFloat32(single);
            var parts = files.Select(Npy.ReadFloat32).ToArray();
            Assert.All(parts, p => Assert.True(p.Shape.Length == 3 && p.Shape[0] > 0, "every shard gets inputs"));
            Assert.Equal(Bits(expected.Data), Bits(parts.SelectMany(p => p.Data).ToArray()));
            Assert.Equal(File.ReadAllLines(single + ".txt"), files.SelectMany(f => File.ReadAllLines(f + ".txt")));

            // Parquet: the folder of shards reads back as the single file does, row for row, with labels.
            var whole = ReadRows(new FeatureShardsDataView(singleParquet));
            var sharded = ReadRows(new FeatureShardsDataView(parquetShards));
            Assert.Equal(14, whole.Count);
            Assert.Equal(whole.Select(r => (r.Path, r.Label)), sharded.Select(r => (r.Path, r.Label)));
            Assert.Equal(whole.SelectMany(r => Bits(r.Tokens)), sharded.SelectMany(r => Bits(r.Tokens)));
            Assert.Equal(File.ReadAllLines(single + ".txt"), whole.Select(r => r.Path));
            Assert.Equal(Bits(expected.Data), whole.SelectMany(r => Bits(r.Tokens)));
            Assert.Equal(["circle", "square"], whole.Select(r => r.Label).Distinct());

            // A finished shard is skipped on rerun; an unfinished one (deleted here) is made again.
            var before = File.GetLastWriteTimeUtc(files[1]);
            var rerun = CliProcess.Run([.. common, "--shard", $"1/{n}", "--out", npyShards]);
            Assert.Equal(0, Check(rerun));
            Assert.Contains("already done", rerun.StdOut);
            Assert.Equal(before, File.GetLastWriteTimeUtc(files[1]));
            File.Delete(Path.Combine(parquetShards, "part-00002-of-00003.parquet"));
            var redo = CliProcess.Run([.. common, "--format", "parquet", "--shard", $"2/{n}", "--out", parquetShards]);
            Assert.Equal(0, Check(redo));
            Assert.DoesNotContain("already done", redo.StdOut);
            Assert.Equal(whole.SelectMany(r => Bits(r.Tokens)), ReadRows(new FeatureShardsDataView(parquetShards)).SelectMany(r => Bits(r.Tokens)));
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp", SearchOption.AllDirectories));
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void AFinishedShard_IsFeaturizedAgain_WhenAnInputChangedOrWasSwappedUnderTheSameName()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-changed-");
        try
        {
            var data = Path.Combine(dir.FullName, "data");
            SyntheticImageDataset.Generate(data, classCount: 2, perClass: 3, width: 64, height: 48, seed: 5);
            var circles = Directory.GetFiles(Path.Combine(data, "circle")).Order(StringComparer.Ordinal).ToArray();
            foreach (var format in new[] { "npy", "parquet" })
            {
                var shards = Path.Combine(dir.FullName, format);
                string[] featurize = ["featurize", "--model", TinyModel.Directory, "--data", data, "--format", format, "--shard", "0/1", "--out", shards];
                Assert.DoesNotContain("already done", CheckRun(featurize).StdOut);
                Assert.Contains("already done", CheckRun(featurize).StdOut);
                float[] Embeddings() => format == "npy"
                    ? Npy.ReadFloat32(Path.Combine(shards, "part-00000-of-00001.npy")).Data
                    : ReadRows(new FeatureShardsDataView(shards)).SelectMany(r => r.Tokens).ToArray();
                var before = Embeddings();

                // Swapped under the same names (a rename keeps each file's bytes and times): the shard is made again.
                var aside = Path.Combine(dir.FullName, "aside.png");
                File.Move(circles[0], aside);
                File.Move(circles[1], circles[0]);
                File.Move(aside, circles[1]);
                var swapped = CheckRun(featurize);
                Assert.DoesNotContain("already done", swapped.StdOut);
                var after = Embeddings();
                Assert.Equal(before.Length, after.Length);
                int row = before.Length / 6;   // rows 0 and 1 (circles 0 and 1) trade places, the others stay
                Assert.Equal(Bits(before[row..(2 * row)]), Bits(after[..row]));
                Assert.Equal(Bits(before[..row]), Bits(after[row..(2 * row)]));
                Assert.Equal(Bits(before[(2 * row)..]), Bits(after[(2 * row)..]));
                Assert.Contains("already done", CheckRun(featurize).StdOut);
                Assert.Empty(Directory.GetFiles(shards, "*.tmp"));
            }
        }
        finally { dir.Delete(true); }
    }

    private static CliProcess.Result CheckRun(string[] args)
    {
        var run = CliProcess.Run(args);
        Check(run);
        return run;
    }

    [FixtureFact]
    public void MoreShardsThanBatchesGiveEmptyShardsAndBadSpecsOneLine()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-small-");
        try
        {
            var images = Fixtures.Tiny("images"); // 6 images, batches of 4: two batches
            var outDir = Path.Combine(dir.FullName, "shards");
            var results = Enumerable.Range(0, 3).Select(i => CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", images, "--output", "embedding", "--batch-size", "4", "--shard", $"{i}/3", "--out", outDir)).ToArray();
            Assert.All(results, r => Assert.Equal(0, Check(r)));
            // Every shard says on stderr, in one line, that the set is short and the --batch-size that fills it.
            Assert.Equal("coca: note: shard 0/3 is empty: 6 inputs make 2 batches of 4, fewer than 3 shards; a --batch-size of 2 or less gives every shard inputs.",
                Assert.Single(results[0].StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("note:")));
            Assert.Contains("coca: note: some of the 3 shards are empty: 6 inputs make 2 batches of 4", results[2].StdErr);
            Assert.Contains("Shard 0/3: no inputs; writing an empty shard file", results[0].StdOut);
            Assert.DoesNotContain("..-1", results[0].StdOut);
            Assert.Contains("Shard 2/3: inputs 4..5 of 6", results[2].StdOut);
            var many = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", images, "--format", "parquet", "--shard", "0/5000", "--out", Path.Combine(dir.FullName, "many"));
            Assert.Contains("coca: note: shard 0/5000 is empty: 6 inputs make 1 batch of 32, fewer than 5000 shards; 6 inputs fill at most 6 shards (--shard I/6).",
                Check(many) == 0 ? many.StdErr : "");
            var counts = Directory.GetFiles(outDir, "*.npy").Order(StringComparer.Ordinal).Select(f => Npy.ReadFloat32(f).Shape[0]).ToArray();
            Assert.Equal([0, 4, 2], counts);
            var all = Directory.GetFiles(outDir, "*.npy").Order(StringComparer.Ordinal).SelectMany(f => Npy.ReadFloat32(f).Data).ToArray();
            Fixtures.AssertRowsClose(all, Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data, 6, 1e-4, "sharded embeddings");

            foreach (var bad in new[] { "3/3", "1", "-1/2", "a/b", "0/0" })
            {
                var r = CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", images, "--shard", bad, "--out", outDir);
                Assert.NotEqual(0, r.ExitCode);
                Assert.Contains($"--shard '{bad}'", r.StdErr);
                Assert.Single(r.StdErr.Trim().Split('\n'));
            }
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void TrainFromShards_RefusesMissingForeignAndOverlappingShards_NamingThem()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-checked-");
        try
        {
            var data = Path.Combine(dir.FullName, "data");
            SyntheticImageDataset.Generate(data, classCount: 2, perClass: 7, width: 64, height: 48, seed: 5); // 14 images
            var otherData = Path.Combine(dir.FullName, "other-data");
            SyntheticImageDataset.Generate(otherData, classCount: 2, perClass: 8, width: 64, height: 48, seed: 6);
            string[] featurize = ["featurize", "--model", TinyModel.Directory, "--format", "parquet", "--batch-size", "3"];
            var shards = Path.Combine(dir.FullName, "shards");
            for (int i = 0; i < 3; i++)
                Check(CliProcess.Run([.. featurize, "--data", data, "--shard", $"{i}/3", "--out", shards]));   // inputs 0..2, 3..8, 9..13
            Assert.Equal(14, new FeatureShardsDataView(shards).GetRowCount());
            var model = Path.Combine(dir.FullName, "classifier.zip");
            void AssertRefused(params string[] expected)
            {
                var train = CliProcess.Run("train", "--model", TinyModel.Directory, "--features", shards, "--out", model, "--epochs", "1");
                Assert.True(train.ExitCode == 1, train.StdOut + train.StdErr);
                Assert.Single(train.StdErr.Trim().Split('\n'));
                Assert.All(expected, e => Assert.Contains(e, train.StdErr));
                Assert.False(File.Exists(model));
            }

            // Two of three shards (the third job has not finished): refused, naming the missing one.
            var third = Path.Combine(shards, "part-00002-of-00003.parquet");
            var aside = Path.Combine(dir.FullName, "third.parquet");
            File.Move(third, aside);
            AssertRefused("incomplete: 1 of 3 missing ('part-00002-of-00003.parquet')", "--shard I/3");

            // In its place, shard 2/3 of another run (other data): refused, naming it.
            var other = Path.Combine(dir.FullName, "other-shards");
            Check(CliProcess.Run([.. featurize, "--data", otherData, "--shard", "2/3", "--out", other]));
            File.Copy(Path.Combine(other, "part-00002-of-00003.parquet"), third);
            AssertRefused("different featurize runs", third);

            // Shard 2/3 of the same data made with another batch size: it starts at input 8, which shard 1 holds too.
            File.Delete(third);
            Check(CliProcess.Run(["featurize", "--model", TinyModel.Directory, "--format", "parquet", "--batch-size", "2", "--data", data, "--shard", "2/3", "--out", shards]));
            AssertRefused("overlap", third, "part-00001-of-00003.parquet", "inputs 8..13");

            // A shard of another split (-of-2) beside the set of three.
            File.Move(aside, third, overwrite: true);
            Check(CliProcess.Run([.. featurize, "--data", data, "--shard", "0/2", "--out", shards]));
            AssertRefused("mix splits", "shard 0 of 2");
            File.Delete(Path.Combine(shards, "part-00000-of-00002.parquet"));
            Assert.Equal(14, new FeatureShardsDataView(shards).GetRowCount());   // the one run, complete again
        }
        finally { dir.Delete(true); }
    }

    [FixtureFact]
    public void AShardRun_RemovesTheTemporaryFilesOfKilledRuns_AndLeavesThoseOfLiveOnes()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-killed-");
        try
        {
            var images = TinyModel.ImagePaths();
            var shards = Path.Combine(dir.FullName, "shards");
            string[] featurize = ["featurize", "--model", TinyModel.Directory, "--format", "parquet", "--batch-size", "2", "--out", shards];
            // Shard 1/2 of [6 images, a stuck one] holds inputs 4..6: it writes its file until it blocks on the stuck one.
            using var killed = CliProcess.Start([.. featurize, "--shard", "1/2", "--images", .. images, StuckInput.Create(Path.Combine(dir.FullName, "stuck-1.png"))]);
            var abandoned = StuckInput.WaitForFile(killed, shards, ".part-00001-of-00002.parquet.*.tmp");
            StuckInput.Kill(killed);
            // Shard 0/2 of [a stuck one, 6 images] is live, stuck on its first input.
            using var live = CliProcess.Start([.. featurize, "--shard", "0/2", "--images", StuckInput.Create(Path.Combine(dir.FullName, "stuck-0.png")), .. images]);
            var inUse = StuckInput.WaitForFile(live, shards, ".part-00000-of-00002.parquet.*.tmp");
            try
            {
                Check(CliProcess.Run([.. featurize, "--shard", "1/2", "--images", .. images]));
                Assert.False(File.Exists(abandoned), "the killed run's temporary file is removed by the next run on the folder");
                Assert.True(File.Exists(inUse), "the live run's temporary file is left alone");
            }
            finally { StuckInput.Kill(live); }
            Check(CliProcess.Run([.. featurize, "--shard", "0/2", "--images", .. images]));
            Assert.Empty(Directory.GetFiles(shards, "*.tmp"));
            Assert.Equal(6, new FeatureShardsDataView(shards).GetRowCount());
        }
        finally { dir.Delete(true); }
    }

    private static int Check(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
        return r.ExitCode;
    }

    private static int[] Bits(float[] values) => MemoryMarshal.Cast<float, int>(values.AsSpan()).ToArray();

    private sealed record Row(string Path, string Label, float[] Tokens);

    private static List<Row> ReadRows(FeatureShardsDataView view)
    {
        var rows = new List<Row>();
        using var cursor = view.GetRowCursor(view.Schema);
        var path = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Path"]);
        var label = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Label"]);
        var tokens = cursor.GetGetter<VBuffer<float>>(view.Schema["Tokens"]);
        ReadOnlyMemory<char> p = default, l = default;
        VBuffer<float> t = default;
        while (cursor.MoveNext())
        {
            path(ref p); label(ref l); tokens(ref t);
            rows.Add(new Row(p.ToString(), l.ToString(), t.DenseValues().ToArray()));
        }
        return rows;
    }
}

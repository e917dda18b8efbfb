using System.Runtime.InteropServices;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.MLNet;
using CoCa.MLNet.Samples;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Tests.Cli;

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
    public void MoreShardsThanBatchesGiveEmptyShardsAndBadSpecsOneLine()
    {
        var dir = Directory.CreateTempSubdirectory("coca-shards-small-");
        try
        {
            var images = Fixtures.Tiny("images"); // 6 images, batches of 4: two batches
            var outDir = Path.Combine(dir.FullName, "shards");
            var results = Enumerable.Range(0, 3).Select(i => CliProcess.Run("featurize", "--model", TinyModel.Directory, "--images", images, "--output", "embedding", "--batch-size", "4", "--shard", $"{i}/3", "--out", outDir)).ToArray();
            Assert.All(results, r => Assert.Equal(0, Check(r)));
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

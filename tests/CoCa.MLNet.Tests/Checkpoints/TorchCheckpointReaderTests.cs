using System.Runtime.InteropServices;
using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Tests.Checkpoints;

public sealed class TorchCheckpointReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Save(TorchZipWriter writer, string name = "model.bin")
    {
        var path = _dir.File(name);
        writer.Save(path);
        return path;
    }

    private static float[] Range(int n, float scale = 0.25f, float shift = -1f) =>
        Enumerable.Range(0, n).Select(i => i * scale + shift).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Float32OrderedDictRoundTrips(int protocol)
    {
        var w = new TorchZipWriter { Protocol = protocol };
        w.AddFloat32("visual.conv1.weight", [2, 3, 2, 2], Range(24));
        w.AddFloat32("logit_scale", [], [2.6592600f]);
        w.AddFloat32("visual.ln_pre.bias", [3], [1e-7f, -3.5e12f, float.Epsilon]);

        var sd = TorchCheckpointReader.Read(Save(w));

        Assert.Equal(["visual.conv1.weight", "logit_scale", "visual.ln_pre.bias"], sd.Keys);
        Assert.True(sd["visual.conv1.weight"].HasShape(2, 3, 2, 2));
        Assert.Equal(Range(24), sd["visual.conv1.weight"].Data);
        Assert.Empty(sd["logit_scale"].Shape);
        Assert.Equal([2.6592600f], sd["logit_scale"].Data);
        Assert.Equal([1e-7f, -3.5e12f, float.Epsilon], sd["visual.ln_pre.bias"].Data);
        Assert.Equal(CheckpointDType.Float32, sd["logit_scale"].SourceType);
    }

    [Fact]
    public void Float16StorageIsConverted()
    {
        float[] values = [0.5f, -1.25f, 3f, 65504f, -0.000061035156f, 0f];
        var halves = values.Select(v => (Half)v).ToArray();
        var w = new TorchZipWriter();
        w.AddStorage("0", "HalfStorage", MemoryMarshal.AsBytes(halves.AsSpan()).ToArray(), halves.Length);
        w.AddView("w", "0", 0, [2, 3], [3, 1]);

        var t = TorchCheckpointReader.Read(Save(w))["w"];

        Assert.Equal(CheckpointDType.Float16, t.SourceType);
        Assert.True(t.HasShape(2, 3));
        Assert.Equal(values, t.Data);
    }

    [Fact]
    public void BFloat16StorageIsConverted()
    {
        // bfloat16 is the top half of a float32: these values are exact in it.
        float[] values = [1f, -2.5f, 0.15625f, 3.0e38f, -1.0e-30f];
        var bits = values.Select(v => (ushort)(BitConverter.SingleToInt32Bits(v) >>> 16)).ToArray();
        var expected = bits.Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
        var w = new TorchZipWriter();
        w.AddStorage("0", "BFloat16Storage", MemoryMarshal.AsBytes(bits.AsSpan()).ToArray(), bits.Length);
        w.AddView("b", "0", 0, [5], [1]);

        var t = TorchCheckpointReader.Read(Save(w))["b"];

        Assert.Equal(CheckpointDType.BFloat16, t.SourceType);
        Assert.Equal(expected, t.Data);
        Assert.Equal(1f, t.Data[0]);
        Assert.Equal(-2.5f, t.Data[1]);
    }

    [Fact]
    public void Float64AndInt64StoragesAreConverted()
    {
        double[] doubles = [0.1, -2.0, 1e300];
        long[] longs = [-3, 0, 1L << 40];
        var w = new TorchZipWriter();
        w.AddStorage("d", "DoubleStorage", MemoryMarshal.AsBytes(doubles.AsSpan()).ToArray(), 3);
        w.AddStorage("l", "LongStorage", MemoryMarshal.AsBytes(longs.AsSpan()).ToArray(), 3);
        w.AddView("d", "d", 0, [3], [1]);
        w.AddView("l", "l", 0, [3], [1]);

        var sd = TorchCheckpointReader.Read(Save(w));

        Assert.Equal([0.1f, -2f, float.PositiveInfinity], sd["d"].Data);
        Assert.Equal([-3f, 0f, 1099511627776f], sd["l"].Data);
        Assert.Equal(CheckpointDType.Int64, sd["l"].SourceType);
    }

    [Fact]
    public void TransposedViewIsMaterialisedRowMajor()
    {
        // Storage holds A = [[0,1,2],[3,4,5]]; the tensor is A.T: size (3,2), stride (1,3).
        var w = new TorchZipWriter();
        w.AddStorage("0", [0f, 1f, 2f, 3f, 4f, 5f]);
        w.AddView("a_t", "0", 0, [3, 2], [1, 3]);

        var t = TorchCheckpointReader.Read(Save(w))["a_t"];

        Assert.True(t.HasShape(3, 2));
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], t.Data);
    }

    [Fact]
    public void StorageOffsetsAndSharedStoragesAreHonoured()
    {
        // One 12-element storage viewed by four tensors: the whole, an offset slice, an offset 2-D block,
        // and a strided column view (every 3rd element from offset 1), as chunk()/split()/[:, 1] produce.
        var storage = Range(12, 1f, 0f);
        var w = new TorchZipWriter();
        w.AddStorage("7", storage);
        w.AddView("whole", "7", 0, [12], [1]);
        w.AddView("slice", "7", 2, [4], [1]);
        w.AddView("block", "7", 6, [2, 3], [3, 1]);
        w.AddView("column", "7", 1, [4], [3]);

        var sd = TorchCheckpointReader.Read(Save(w));

        Assert.Equal(storage, sd["whole"].Data);
        Assert.Equal([2f, 3f, 4f, 5f], sd["slice"].Data);
        Assert.Equal([6f, 7f, 8f, 9f, 10f, 11f], sd["block"].Data);
        Assert.True(sd["block"].HasShape(2, 3));
        Assert.Equal([1f, 4f, 7f, 10f], sd["column"].Data);
    }

    [Fact]
    public void StateDictWrapperModulePrefixPlainDictAndParametersAreUnwrapped()
    {
        var w = new TorchZipWriter { WrapInStateDictKey = true, KeyPrefix = "module.", UseOrderedDict = false, RootFolder = "epoch_32" };
        w.AddFloat32("visual.proj", [2, 2], [1f, 2f, 3f, 4f], asParameter: true);
        w.AddFloat32("text.cls_emb", [2], [5f, 6f]);

        var sd = TorchCheckpointReader.Read(Save(w, "epoch_32.pt"));

        Assert.Equal(["visual.proj", "text.cls_emb"], sd.Keys);
        Assert.Equal([1f, 2f, 3f, 4f], sd["visual.proj"].Data);
        Assert.Equal([5f, 6f], sd["text.cls_emb"].Data);
    }

    [Fact]
    public void ModulePrefixIsKeptWhenNotEveryKeyHasIt()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("module.a", [1], [1f]);
        w.AddFloat32("b", [1], [2f]);

        Assert.Equal(["module.a", "b"], TorchCheckpointReader.Read(Save(w)).Keys);
    }

    [Fact]
    public void BigEndianCheckpointsAreByteSwapped()
    {
        float[] values = [1.5f, -2f, 1e-3f];
        var bytes = values.SelectMany(v => BitConverter.GetBytes(v).Reverse()).ToArray();
        var w = new TorchZipWriter { ByteOrder = "big" };
        w.AddStorage("0", "FloatStorage", bytes, 3);
        w.AddView("x", "0", 0, [3], [1]);

        Assert.Equal(values, TorchCheckpointReader.Read(Save(w))["x"].Data);
    }

    [Fact]
    public void IncludeFilterSkipsTensorsAndNeverReadsTheirStorages()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("visual.a", [2], [1f, 2f]);
        w.AddFloat32("text_decoder.b", [2], [3f, 4f]);
        w.OmitStorageRecords.Add("1"); // text_decoder.b's storage is absent: reading it would fail

        var sd = TorchCheckpointReader.Read(Save(w), name => !name.StartsWith("text_decoder.", StringComparison.Ordinal));

        Assert.Equal(["visual.a"], sd.Keys);
        Assert.Equal([1f, 2f], sd["visual.a"].Data);
    }

    [Fact]
    public void MissingStorageRecordIsNamed()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("visual.a", [2], [1f, 2f]);
        w.AddFloat32("visual.b", [2], [3f, 4f]);
        w.OmitStorageRecords.Add("1");
        var path = Save(w);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains("archive/data/1", e.Message);
        Assert.Contains("visual.b", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ShortStorageRecordIsReportedAsTruncated()
    {
        var w = new TorchZipWriter();
        w.AddStorage("0", "FloatStorage", new byte[8], 4); // claims 4 floats, holds 2
        w.AddView("x", "0", 0, [4], [1]);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(Save(w)));

        Assert.Contains("'x'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ViewPastTheEndOfItsStorageIsRejected()
    {
        var w = new TorchZipWriter();
        w.AddStorage("0", [1f, 2f, 3f]);
        w.AddView("x", "0", 2, [2], [1]);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(Save(w)));

        Assert.Contains("'x'", e.Message);
        Assert.Contains("holds only 3 elements", e.Message);
    }

    [Fact]
    public void UnsupportedGlobalInTheStateDictIsNamedAndNotExecuted()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("visual.a", [1], [1f]);
        w.AddRawEntry("visual.evil", p => p.Global("os", "system").Mark().String("echo pwned").Tuple().Reduce());

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(Save(w)));

        Assert.Contains("'os.system'", e.Message);
        Assert.Contains("visual.evil", e.Message);
    }

    [Fact]
    public void UnsupportedGlobalsOutsideTheStateDictAreIgnored()
    {
        // A training checkpoint may carry e.g. numpy scalars or argparse args beside "state_dict"; they are never built.
        var w = new TorchZipWriter
        {
            RootOverride = p =>
            {
                p.EmptyDict().Put().Mark();
                p.String("args").Global("argparse", "Namespace").EmptyTuple().Reduce().EmptyDict().Build();
                p.String("state_dict").Global("collections", "OrderedDict").EmptyTuple().Reduce().Put();
                p.Mark().String("visual.a");
                p.Global("torch._utils", "_rebuild_tensor_v2").Mark();
                p.Mark().String("storage").Global("torch", "FloatStorage").String("0").String("cpu").Int(2).Tuple().BinPersId();
                p.Int(0).Int(2).Op(0x85).Int(1).Op(0x85).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
                p.SetItems();
                p.SetItems();
            },
        };
        w.AddStorage("0", [7f, 8f]);

        var sd = TorchCheckpointReader.Read(Save(w));

        Assert.Equal([7f, 8f], sd["visual.a"].Data);
    }

    [Fact]
    public void PickledModelObjectIsRejectedNamingItsClass()
    {
        var w = new TorchZipWriter
        {
            RootOverride = p => p.Global("open_clip.coca_model", "CoCa").EmptyTuple().Op(0x81).EmptyDict().Build(),
        };

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(Save(w)));

        Assert.Contains("open_clip.coca_model.CoCa", e.Message);
        Assert.Contains("state_dict()", e.Message);
    }

    [Fact]
    public void UnsupportedStorageTypeIsNamed()
    {
        var w = new TorchZipWriter();
        w.AddStorage("0", "ComplexFloatStorage", new byte[16], 2);
        w.AddView("c", "0", 0, [2], [1]);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(Save(w)));

        Assert.Contains("torch.ComplexFloatStorage", e.Message);
    }

    [Fact]
    public void NonZipFileIsRejected()
    {
        var path = _dir.File("notes.bin");
        File.WriteAllText(path, "this is not a checkpoint at all, just some text");

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("not a PyTorch checkpoint", e.Message);
    }

    [Fact]
    public void LegacyTorchFormatIsRecognisedAndExplained()
    {
        // Legacy torch.save starts with a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c (LONG1).
        var path = _dir.File("old.pth");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains("legacy", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedZipIsReportedNamingTheFile()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("visual.a", [256], Range(256));
        var path = Save(w);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated or corrupt", e.Message);
    }

    [Fact]
    public void TruncatedPickleIsReported()
    {
        var w = new TorchZipWriter();
        w.AddFloat32("visual.a", [2], [1f, 2f]);
        var pickle = w.BuildPickle();
        // Keep the first half of data.pkl: the pickle stops mid-stream, before its STOP opcode.
        var path = _dir.File("cut.bin");
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write(pickle.AsSpan(0, pickle.Length / 2));
            using (var s = zip.CreateEntry("archive/data/0").Open()) s.Write(new byte[8]);
        }

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains("data.pkl", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ZipWithoutDataPklIsRejected()
    {
        var path = _dir.File("other.zip");
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("readme.txt").Open()) s.Write("hi"u8);

        var e = Assert.Throws<CheckpointException>(() => TorchCheckpointReader.Read(path));

        Assert.Contains("data.pkl", e.Message);
    }

    [Fact]
    public void MissingFileThrowsFileNotFound()
    {
        var path = _dir.File("nope.bin");
        var e = Assert.Throws<FileNotFoundException>(() => TorchCheckpointReader.Read(path));
        Assert.Contains(path, e.Message);
    }
}

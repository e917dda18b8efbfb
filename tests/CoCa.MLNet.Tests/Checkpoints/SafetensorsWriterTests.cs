using System.Text;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Tests.Checkpoints;

public sealed class SafetensorsWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WrittenFileReadsBackIdentically()
    {
        var sd = RandomCoCaCheckpoint.Create(CheckpointValidatorTests.Tiny, seed: 4);
        var path = _dir.File("model.safetensors");

        SafetensorsWriter.Write(path, sd, new Dictionary<string, string> { ["format"] = "pt" });
        var back = SafetensorsReader.Read(path);

        Assert.Equal(sd.Keys, back.Keys);
        foreach (var (name, t) in sd)
        {
            Assert.Equal(t.Shape, back[name].Shape);
            Assert.True(t.Data.AsSpan().SequenceEqual(back[name].Data), name);
        }
        Assert.Equal(CheckpointFileKind.Safetensors, CheckpointFormat.Detect(path));
    }

    [Fact]
    public void HeaderIsPaddedSoDataIsEightByteAligned()
    {
        var path = _dir.File("a.safetensors");
        SafetensorsWriter.Write(path, [new CheckpointTensor("x", [3], [1f, 2f, 3f]), new CheckpointTensor("scalar", [], [4f])]);

        var bytes = File.ReadAllBytes(path);
        var headerLength = (long)BitConverter.ToUInt64(bytes, 0);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);

        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 16, bytes.Length);
        Assert.Contains("\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}", header);
        Assert.Contains("\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]}", header);
        Assert.Equal(4f, BitConverter.ToSingle(bytes, (int)(8 + headerLength + 12)));
    }

    [Fact]
    public void OverwritesAtomicallyAndLeavesNoTemporaryFiles()
    {
        var path = _dir.File("m.safetensors");
        SafetensorsWriter.Write(path, [new CheckpointTensor("a", [1], [1f])]);
        SafetensorsWriter.Write(path, [new CheckpointTensor("b", [2], [2f, 3f])]);

        Assert.Equal(["b"], SafetensorsReader.Read(path).Keys);
        Assert.Equal(["m.safetensors"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void DuplicateNamesAreRejectedBeforeAnythingIsWritten()
    {
        var path = _dir.File("dup.safetensors");

        var e = Assert.Throws<ArgumentException>(() =>
            SafetensorsWriter.Write(path, [new CheckpointTensor("a", [1], [1f]), new CheckpointTensor("a", [1], [2f])]));

        Assert.Contains("'a'", e.Message);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }
}

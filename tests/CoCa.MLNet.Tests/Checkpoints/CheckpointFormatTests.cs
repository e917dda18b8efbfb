using System.Text;
using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Tests.Checkpoints;

public sealed class CheckpointFormatTests
{
    private static byte[] Safetensors(int headerLength)
    {
        var json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        var header = Encoding.UTF8.GetBytes(json.PadRight(headerLength));
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. BitConverter.GetBytes(1.5f)];
    }

    [Fact]
    public void SafetensorsWhoseHeaderLengthStartsWithThePickleByteIsStillSafetensors()
    {
        // 640 = 0x0280: the file starts 80 02, just like a protocol-2 pickle (legacy torch.save).
        var bytes = Safetensors(640);
        Assert.Equal(0x80, bytes[0]);
        Assert.Equal(0x02, bytes[1]);

        Assert.Equal(CheckpointFileKind.Safetensors, CheckpointFormat.Detect(bytes, bytes.Length));
        Assert.Equal(CheckpointFileKind.LegacyTorch, CheckpointFormat.Detect([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20], 100));
        Assert.Equal(CheckpointFileKind.TorchZip, CheckpointFormat.Detect("PK\u0003\u0004\u0014\u0000\u0000\u0000\u0000\u0000"u8, 1000));
        Assert.Equal(CheckpointFileKind.Unknown, CheckpointFormat.Detect("hello, world"u8, 12));
    }

    [Fact]
    public void SafetensorsWithPickleLikeStartLoads()
    {
        using var dir = new TempDirectory();
        var path = dir.File("w.safetensors");
        File.WriteAllBytes(path, Safetensors(640));

        Assert.Equal([1.5f], CheckpointLoader.Load(path).Weights["x"].Data);
    }
}

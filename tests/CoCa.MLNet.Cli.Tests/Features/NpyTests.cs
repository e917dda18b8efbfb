using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.IO;

namespace CoCa.MLNet.Cli.Tests.Features;

public class NpyTests
{
    [Fact]
    public void WriteThenReadRoundTripsShapeAndValues()
    {
        var path = Path.Combine(Path.GetTempPath(), $"npy-{Guid.NewGuid():N}.npy");
        try
        {
            float[] data = [1.5f, -2f, 3.25f, 0f, float.MaxValue, float.Epsilon];
            Npy.Write(path, data, 2, 3);
            var back = Npy.ReadFloat32(path);
            Assert.Equal(new long[] { 2, 3 }, back.Shape);
            Assert.Equal(data, back.Data);
        }
        finally { File.Delete(path); }
    }

    [FixtureFact]
    public void ReadsNumPyWrittenReference()
    {
        var ids = Npy.ReadInt64(Fixtures.Tiny("ref_text_ids.npy"));
        Assert.Equal(new long[] { 6, 76 }, ids.Shape);
        Assert.Equal(49406, ids.Data[0]);
    }
}

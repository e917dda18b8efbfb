using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Onnx.Blocks;
using Xunit.Abstractions;

namespace CoCa.MLNet.Tests.Onnx;

public class OnnxGraphBuilderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0L, new byte[] { 0x00 })]
    [InlineData(1L, new byte[] { 0x01 })]
    [InlineData(150L, new byte[] { 0x96, 0x01 })]
    [InlineData(300L, new byte[] { 0xAC, 0x02 })]
    [InlineData(-1L, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void VarintsFollowTheProtobufEncoding(long value, byte[] expected)
    {
        using var stream = new MemoryStream();
        ProtobufWriter.To(stream).WriteVarint((ulong)value);
        Assert.Equal(expected, stream.ToArray());
        Assert.Equal(expected.Length, ProtobufWriter.VarintSize((ulong)value));
    }

    [Fact]
    public void FieldsAndNestedMessagesAreEncodedAsProtobufSpecifies()
    {
        using var stream = new MemoryStream();
        var w = ProtobufWriter.To(stream);
        w.WriteInt64(1, 8);                                   // ir_version = 8 → tag 0x08, value 0x08
        w.WriteMessage(8, o => o.WriteInt64(2, 17));          // opset_import { version = 17 } → 0x42 len 2, 0x10 0x11
        w.WriteString(2, "ab");                               // producer_name → 0x12 len 2 'a' 'b'
        w.WriteFloat(2, 1f);                                  // fixed32 → 0x15 00 00 80 3F
        Assert.Equal(new byte[] { 0x08, 0x08, 0x42, 0x02, 0x10, 0x11, 0x12, 0x02, 0x61, 0x62, 0x15, 0x00, 0x00, 0x80, 0x3F }, stream.ToArray());
        Assert.Equal(stream.Length, w.Position);
    }

    [Fact]
    public void SmallGraphRunsInOnnxRuntimeWithSymbolicBatchAndMetadata()
    {
        // y = relu(x @ Wᵀ + b) with W given PyTorch-style [out=2, in=3], then reshaped to [batch, 1, 2].
        var g = new OnnxGraphBuilder("demo");
        var x = g.Input("x", OnnxDataType.Float, "batch", 3);
        var weight = new NamedTensor("fc.weight", new float[] { 1, 2, 3, -1, 0, 1 }, 2, 3);
        var bias = new NamedTensor("fc.bias", new float[] { 0.5f, -10 }, 2);
        var y = g.Node("Relu", [LinearBlock.Apply(g, x, weight, bias)]);
        g.Output(g.Reshape(y, 0, 1, 2), "y", OnnxDataType.Float, "batch", 1, 2);
        g.SetMetadata("purpose", "test");
        g.SetMetadata("purpose", "unit test");   // replaces

        var bytes = g.ToBytes();
        Assert.Equal(g.MeasureSize(), bytes.Length);
        using var session = new OrtSession(bytes);
        var result = session.Run("x", [1, 1, 1, 2, 0, 4], [2, 3], "y")["y"];
        Assert.Equal(new long[] { 2, 1, 2 }, result.Shape);
        Assert.Equal(new float[] { 6.5f, 0, 14.5f, 0 }, result.Data);
        Assert.Equal("unit test", session.Session.ModelMetadata.CustomMetadataMap["purpose"]);
        Assert.Equal("batch", session.Session.InputMetadata["x"].SymbolicDimensions[0]);
    }

    [Fact]
    public void TransposedWeightsAreWrittenTransposed()
    {
        var matrix = Enumerable.Range(0, 5 * 7).Select(i => (float)i).ToArray();
        using var stream = new MemoryStream();
        OnnxTensorData.Transposed(matrix, 5, 7).WriteRaw(stream);
        var back = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stream.ToArray()).ToArray();
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 7; c++)
                Assert.Equal(matrix[r * 7 + c], back[c * 5 + r]);
    }

    [Fact]
    public void NamesAreUniqueAndScoped()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxDataType.Float, 2);
        string a, b, c;
        using (g.Scope("block"))
        {
            a = g.Add(x, x);
            b = g.Add(a, x);
            using (g.Scope("inner")) c = g.Add(b, x);
        }
        Assert.Equal("block/Add", a);
        Assert.Equal("block/Add_1", b);
        Assert.Equal("block/inner/Add", c);
        Assert.Equal(g.ScalarFloat(0.5f), g.ScalarFloat(0.5f));   // equal constants are shared
        Assert.NotEqual(g.Int64s(1, 2), g.Int64s(2, 1));
    }

    [Fact]
    public void MistakesAreReportedWhenTheNodeIsAdded()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxDataType.Float, 2);
        Assert.Contains("'typo'", Assert.Throws<ArgumentException>(() => g.Add(x, "typo")).Message);
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => g.Initializer("x", new float[2], 2)).Message);
        Assert.Contains("[3]", Assert.Throws<ArgumentException>(() => g.Initializer("w", new float[2], 3)).Message);
        Assert.Contains("no outputs", Assert.Throws<InvalidOperationException>(() => g.ToBytes()).Message);
    }

    [Fact]
    public void ModelsBeyondTwoGigabytesAreRefusedBeforeAnythingIsWritten()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxDataType.Float, 1);
        g.Output(g.Add(x, g.Initializer("huge", new HugeData(), 600_000_000)), "y", OnnxDataType.Float, 600_000_000);
        using var stream = new MemoryStream();
        var e = Assert.Throws<InvalidOperationException>(() => g.WriteTo(stream));
        Assert.Contains("2 GiB", e.Message);
        Assert.Equal(0, stream.Length);
        Assert.Throws<InvalidOperationException>(() => g.ToBytes());
    }

    private sealed class HugeData : OnnxTensorData
    {
        public override OnnxDataType DataType => OnnxDataType.Float;
        public override long ElementCount => 600_000_000;   // 2.4 GB, never materialized
        internal override void WriteRaw(Stream stream) => throw new InvalidOperationException("must not be written");
    }

    [Fact]
    public void ResidualBlockWithCausalMaskMatchesTheReference()
    {
        // The text tower's use: one resblock over [B, T, W] with an additive mask input [T, T].
        const int batch = 2, t = 5, width = 12, heads = 3, mlp = 48;
        var rng = new Random(3);
        var tensors = new List<CheckpointTensor>();
        void Add(string name, double std, double mean, params long[] shape) => tensors.Add(RandomVisionCheckpoint.Gaussian(rng, name, std, mean, shape));
        Add("blk.ln_1.weight", 0.2, 1, width); Add("blk.ln_1.bias", 0.2, 0, width);
        Add("blk.attn.in_proj_weight", 0.3, 0, 3 * width, width); Add("blk.attn.in_proj_bias", 0.1, 0, 3 * width);
        Add("blk.attn.out_proj.weight", 0.3, 0, width, width); Add("blk.attn.out_proj.bias", 0.1, 0, width);
        Add("blk.ln_2.weight", 0.2, 1, width); Add("blk.ln_2.bias", 0.2, 0, width);
        Add("blk.mlp.c_fc.weight", 0.3, 0, mlp, width); Add("blk.mlp.c_fc.bias", 0.1, 0, mlp);
        Add("blk.mlp.c_proj.weight", 0.15, 0, width, mlp); Add("blk.mlp.c_proj.bias", 0.1, 0, width);
        var sd = new StateDict(tensors, "block");

        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxDataType.Float, "batch", t, width);
        var mask = g.Input("mask", OnnxDataType.Float, t, t);
        var y = ResidualAttentionBlock.Apply(g, new StateDictReader(sd), "blk", x, width, heads, mlp, additiveMask: mask);
        g.Output(y, "y", OnnxDataType.Float, "batch", t, width);

        var input = Enumerable.Range(0, batch * t * width).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var causal = new float[t * t];
        for (int i = 0; i < t; i++)
            for (int j = i + 1; j < t; j++) causal[i * t + j] = float.NegativeInfinity;

        using var session = new OrtSession(g.ToBytes());
        var actual = session.Run(new Dictionary<string, (float[], long[])> { ["x"] = (input, [batch, t, width]), ["mask"] = (causal, [t, t]) }, "y")["y"];

        var maskD = causal.Select(v => (double)v).ToArray();
        float[] W(string name) => sd[name].Data;
        var expected = new List<double>();
        for (int b = 0; b < batch; b++)
        {
            var xb = input.AsSpan(b * t * width, t * width).ToArray().Select(v => (double)v).ToArray();
            expected.AddRange(ReferenceOps.ResidualBlock(xb, t, width, heads, mlp, W, "blk", maskD));
        }
        double err = RowError.Max(actual.Data, expected.ToArray(), batch * t);
        output.WriteLine($"masked resblock vs reference: {err:E2}");
        Assert.True(err <= 1e-5, $"{err:E3}");

        // The mask matters: token 0 sees only itself, so changing later tokens must not change it.
        var changed = (float[])input.Clone();
        for (int i = width; i < t * width; i++) changed[i] += 1;
        var again = session.Run(new Dictionary<string, (float[], long[])> { ["x"] = (changed, [batch, t, width]), ["mask"] = (causal, [t, t]) }, "y")["y"];
        Assert.Equal(actual.Data.AsSpan(0, width).ToArray(), again.Data.AsSpan(0, width).ToArray());
        Assert.NotEqual(actual.Data[width], again.Data[width]);
    }

    [Fact]
    public void ReferenceErfIsAccurate()
    {
        // Values from mpmath (erf at 50 digits).
        Assert.Equal(0.52049987781304653768, ReferenceOps.Erf(0.5), 14);
        Assert.Equal(0.84270079294971486934, ReferenceOps.Erf(1.0), 14);
        Assert.Equal(-0.99532226501895273416, ReferenceOps.Erf(-2.0), 14);
        Assert.Equal(0.99959304798255504106, ReferenceOps.Erf(2.5), 14);
        Assert.Equal(0.99997790950300141456, ReferenceOps.Erf(3.0), 14);
        Assert.Equal(1.0, ReferenceOps.Erf(7.0), 15);
    }
}

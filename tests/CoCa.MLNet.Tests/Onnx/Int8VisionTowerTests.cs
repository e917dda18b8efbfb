using CoCa.MLNet.Cli.Features;
using CoCa.MLNet.Scoring;
using Xunit.Abstractions;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Onnx;
using CoCa.MLNet.Onnx.Blocks;

namespace CoCa.MLNet.Tests.Onnx;

/// <summary>The opt-in int8 vision tower: dynamically quantized Linear layers, close to fp32, never the default.</summary>
public class Int8VisionTowerTests(ITestOutputHelper output)
{
    [Fact]
    public void PerOutputChannelQuantizationRoundTripsWithinHalfAStep()
    {
        // 3 outputs × 4 inputs, one channel all zero.
        float[] w = [0.5f, -1f, 0.25f, 0.1f, 0, 0, 0, 0, 100f, -3f, 2f, 50f];
        var (q, scales) = LinearBlock.QuantizePerOutputChannel(w, 3, 4);
        Assert.Equal([1f / 127, 1f, 100f / 127], scales);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 4; i++)
                Assert.InRange(Math.Abs(q[i * 3 + o] * scales[o] - w[o * 4 + i]), 0, scales[o] / 2 + 1e-6);
        Assert.Equal(127, q[1 * 3 + 0] * -1); // the largest magnitude of a channel maps to ±127
    }

    [FixtureFact]
    public void Int8ConversionIsOptInAndStaysCloseToFp32OnTheFixture()
    {
        var dir = Directory.CreateTempSubdirectory("coca-int8-");
        try
        {
            var int8 = CoCaConverter.Convert(Fixtures.TinyCoCa, Path.Combine(dir.FullName, "int8"), precision: VisionPrecision.Int8);
            var int8Bytes = File.ReadAllBytes(int8.VisionModelPath);
            var fp32Bytes = File.ReadAllBytes(ConvertedModel.Open(TinyModel.Directory).VisionModelPath);
            Assert.NotEmpty(Chunks(int8Bytes));
            Assert.Empty(Chunks(fp32Bytes)); // the default stays fp32
            Assert.True(int8Bytes.Length < fp32Bytes.Length * 0.6, $"int8 {int8Bytes.Length} bytes vs fp32 {fp32Bytes.Length}");

            using var extractor = CoCaImageFeatureExtractor.Open(int8.Directory);
            var images = TinyModel.ImagePaths();
            var (tokens, embeddings) = extractor.Extract(images, tokens: true, embeddings: true);
            var refTokens = Npy.ReadFloat32(Fixtures.Tiny("ref_tokens.npy")).Data;
            var refEmbeddings = Npy.ReadFloat32(Fixtures.Tiny("ref_image_embedding.npy")).Data;
            for (int i = 0; i < images.Length; i++)
            {
                double e = EmbeddingMath.Cosine(embeddings!.AsSpan(i * 48, 48), refEmbeddings.AsSpan(i * 48, 48));
                double t = EmbeddingMath.Cosine(tokens!.AsSpan(i * 17 * 64, 17 * 64), refTokens.AsSpan(i * 17 * 64, 17 * 64));
                output.WriteLine($"image {i}: embedding cosine {e:F5}, tokens cosine {t:F5}");
                Assert.True(e >= 0.99, $"image {i}: int8 embedding cosine {e} < 0.99");
                Assert.True(t >= 0.99, $"image {i}: int8 tokens cosine {t} < 0.99");
            }
        }
        finally { dir.Delete(true); }
    }

    private static IEnumerable<byte[]> Chunks(byte[] model)
    {
        // The op type as it appears in the serialized model: search the bytes for it.
        var text = System.Text.Encoding.Latin1.GetString(model);
        return text.Contains("DynamicQuantizeMatMul") ? ["DynamicQuantizeMatMul"u8.ToArray()] : [];
    }
}

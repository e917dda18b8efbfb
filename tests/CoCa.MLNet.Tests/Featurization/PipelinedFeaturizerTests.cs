using CoCa.MLNet.Featurization;
using CoCa.MLNet.Transforms;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Featurization;

/// <summary>Decoding runs one batch ahead of ONNX Runtime: the numbers and their order must not change.</summary>
public class PipelinedFeaturizerTests
{
    [FixtureFact]
    public void PipelinedImageFeaturizerEqualsBatchByBatchExtractionInOrder()
    {
        // 3 × 6 images in a scrambled order, batches of 4 (the last one short).
        var fixture = TinyModel.ImagePaths();
        var paths = Enumerable.Range(0, 18).Select(i => fixture[(i * 5) % 6]).ToArray();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new { Image = p }));
        using var model = ml.Transforms.ExtractCoCaImageFeatures(TinyModel.Directory, batchSize: 4).Fit(data);
        var pipelined = FloatVectorColumn.ReadFlat(model.Transform(data), "Tokens");

        using var extractor = CoCaImageFeatureExtractor.Open(TinyModel.Directory);
        var expected = paths.Chunk(4).SelectMany(c => extractor.Extract(c, tokens: true, embeddings: false).Tokens!).ToArray();
        Assert.Equal(expected, pipelined);

        var batches = extractor.ExtractBatches(paths.Chunk(4), tokens: false, embeddings: true).SelectMany(r => r.Embeddings!).ToArray();
        Assert.Equal(paths.Chunk(4).SelectMany(c => extractor.Extract(c, tokens: false, embeddings: true).Embeddings!), batches);
    }

    [FixtureFact]
    public void PipelinedVideoFeaturizerEqualsGroupByGroupExtractionInOrder()
    {
        // Folders of frame images are videos (no ffmpeg needed): five "videos" of the fixture's images in different orders.
        var fixture = TinyModel.ImagePaths();
        var dir = Directory.CreateTempSubdirectory("coca-pipelined-video-");
        try
        {
            var videos = Enumerable.Range(0, 5).Select(v =>
            {
                var folder = Path.Combine(dir.FullName, $"video{v}");
                Directory.CreateDirectory(folder);
                for (int f = 0; f < 4; f++)
                    File.Copy(fixture[(v + f * (v + 1)) % 6], Path.Combine(folder, $"frame{f:D2}{Path.GetExtension(fixture[0])}"));
                return folder;
            }).ToArray();
            var ml = new MLContext(seed: 0);
            var data = ml.Data.LoadFromEnumerable(videos.Select(p => new { Video = p }));
            // 3 frames per video, 6 frames per batch: groups of two videos, the last one alone.
            using var model = ml.Transforms.ExtractCoCaVideoFeatures(new CoCaVideoFeaturizerOptions
            {
                ModelPath = TinyModel.Directory, FrameCount = 3, FrameBatchSize = 6,
            }).Fit(data);
            var output = model.Transform(data);
            var tokens = FloatVectorColumn.ReadFlat(output, "Tokens");
            var embeddings = FloatVectorColumn.ReadFlat(output, "Embedding");

            using var images = CoCaImageFeatureExtractor.Open(TinyModel.Directory);
            var extractor = new CoCaVideoFeatureExtractor(images, frameCount: 3, frameBatchSize: 6);
            var groups = videos.Chunk(extractor.VideosPerBatch).ToArray();
            Assert.Equal(3, groups.Length);
            var expected = groups.Select(g => extractor.Extract(g, tokens: true, embeddings: true)).ToArray();
            Assert.Equal(expected.SelectMany(e => e.Tokens!), tokens);
            Assert.Equal(expected.SelectMany(e => e.Embeddings!), embeddings);

            var streamed = extractor.ExtractBatches(groups, tokens: true, embeddings: false).SelectMany(r => r.Tokens!).ToArray();
            Assert.Equal(tokens, streamed);
        }
        finally { dir.Delete(true); }
    }
}

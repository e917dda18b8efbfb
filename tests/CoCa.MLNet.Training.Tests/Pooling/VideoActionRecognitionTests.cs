using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Training.Tests.Pooling;
using CoCa.MLNet.Video;
using Microsoft.ML;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests.Pooling;

/// <summary>
/// Issue 4's end-to-end claim: H.264 videos → ML.NET video featurizer (a small random encoder, frozen) →
/// multi-frame attentional pooler → Evaluate learns the direction of motion on held-out videos.
/// </summary>
public class VideoActionRecognitionTests(ITestOutputHelper output)
{
    private sealed record VideoRow(string Video, string Label);

    [Fact]
    public void MultiFramePoolerLearnsTheDirectionOfMotion()
    {
        var work = Directory.CreateTempSubdirectory("coca-video-e2e-");
        try
        {
            var b32 = CoCaConfigs.Get("coca_ViT-B-32");
            var config = b32 with
            {
                Name = "coca_video_test",
                EmbedDim = 32,
                Vision = b32.Vision with { ImageSize = 64, PatchSize = 8, Width = 64, Layers = 2, HeadWidth = 32, AttnPoolerQueries = 4, AttnPoolerHeads = 2 },
                Preprocess = b32.Preprocess with { ImageSize = 64 },
            };
            var modelDir = CoCaConverter.Convert(RandomCoCaCheckpoint.Create(config, seed: 5, includeText: false), config, Path.Combine(work.FullName, "model")).Directory;

            // Four directions; the square's colour runs from red to blue over time (the generator's default), so each
            // frame's tokens show where the square was when.
            var videos = VideoDatasetGenerator.GenerateMotionDataset(Path.Combine(work.FullName, "videos"), new MotionDatasetOptions
            {
                VideosPerClass = 80, FrameCount = 12, NoiseAmplitude = 0, SquareFraction = 0.4, Width = 64, Height = 64, Format = VideoOutputFormat.Mp4H264, Seed = 3,
            });
            // Hold out every fourth video of each class.
            var rows = videos.Select((v, i) => (Row: new VideoRow(v.Path, v.Label), Test: i % 4 == 3)).ToList();

            var ml = new MLContext(seed: 1);
            var train = ml.Data.LoadFromEnumerable(rows.Where(r => !r.Test).Select(r => r.Row));
            var test = ml.Data.LoadFromEnumerable(rows.Where(r => r.Test).Select(r => r.Row));
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.ExtractCoCaVideoFeatures(modelDir, "Video", frameCount: 8, embeddingColumnName: null))
                .Append(ml.MulticlassClassification.Trainers.AttentionalPooler(new AttentionalPoolerOptions
                {
                    NumberOfEpochs = 60, BatchSize = 8, LearningRate = 3e-3, Seed = 1,
                    NumberOfQueries = 4, NumberOfHeads = 8, WeightDecay = 0.05, ValidationFraction = 0,
                    Progress = new InlineProgress<AttentionalPoolerProgress>(p => output.WriteLine(p.ToString())),
                }));
            var model = pipeline.Fit(train);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
            output.WriteLine($"held-out accuracy {metrics.MicroAccuracy:P1} on {rows.Count(r => r.Test)} videos");
            output.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
            Assert.True(metrics.MicroAccuracy >= 0.90, $"held-out accuracy {metrics.MicroAccuracy:P1} < 90 %");
        }
        finally { work.Delete(recursive: true); }
    }
}

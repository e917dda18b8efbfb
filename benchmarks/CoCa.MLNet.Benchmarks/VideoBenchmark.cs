using System.Diagnostics;
using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Video;
using Microsoft.ML;
using Microsoft.ML.Data;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// Videos/s of the video featurizer: F frames (default 16) sampled uniformly from generated 320×240 H.264 clips
/// through a ViT-B/32-size encoder at 224². Decoding (ffmpeg, frame sampling) and encoding (preprocessing + ONNX
/// Runtime) are timed separately, then the ML.NET transformer end to end.
/// Options: --videos N (default 8), --frames F (default 16), --source-frames S (default 96), --model coca_ViT-B-32.
/// </summary>
internal static class VideoBenchmark
{
    public static int Run(string[] args)
    {
        int count = IntArg(args, "--videos", 8);
        int frames = IntArg(args, "--frames", 16);
        int sourceFrames = IntArg(args, "--source-frames", 96);
        string name = StringArg(args, "--model", "coca_ViT-B-32");
        var work = Directory.CreateTempSubdirectory("coca-bench-video-");
        try
        {
            var config = CoCaConfigs.Get(name);
            Console.WriteLine($"machine: {MachineInfo.Describe()}");
            Console.WriteLine($"model: {name} (random weights), {count} H.264 videos 320x240 of {sourceFrames} frames, {frames} frames sampled each");
            var modelDir = Path.Combine(work.FullName, "model");
            CoCaConverter.Convert(RandomCoCaCheckpoint.Create(config, seed: 0, includeText: false), config, modelDir);
            var videos = VideoDatasetGenerator.GenerateMotionDataset(Path.Combine(work.FullName, "videos"), new MotionDatasetOptions
            {
                VideosPerClass = (count + 3) / 4, Width = 320, Height = 240, FrameCount = sourceFrames, FramesPerSecond = 24,
            }).Take(count).Select(v => v.Path).ToArray();

            using var images = CoCaImageFeatureExtractor.Open(modelDir);
            var extractor = new CoCaVideoFeatureExtractor(images, frames);
            extractor.Extract([extractor.Sample(videos[0])], tokens: true, embeddings: true); // warm-up

            var sw = Stopwatch.StartNew();
            var sampled = videos.Select(extractor.Sample).ToArray();
            double decodeSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            extractor.Extract(sampled, tokens: true, embeddings: true);
            double encodeSeconds = sw.Elapsed.TotalSeconds;

            var ml = new MLContext(seed: 0);
            var data = ml.Data.LoadFromEnumerable(videos.Select(v => new { Video = v }));
            using var model = ml.Transforms.ExtractCoCaVideoFeatures(modelDir, frameCount: frames).Fit(data);
            sw.Restart();
            var output = model.Transform(data);
            var col = output.Schema["Tokens"];
            using (var cursor = output.GetRowCursor([col]))
            {
                var getter = cursor.GetGetter<VBuffer<float>>(col);
                VBuffer<float> value = default;
                while (cursor.MoveNext()) getter(ref value);
            }
            double pipelineSeconds = sw.Elapsed.TotalSeconds;

            Console.WriteLine();
            Console.WriteLine("| stage | seconds per video | videos/s |");
            Console.WriteLine("| --- | ---: | ---: |");
            Console.WriteLine($"| decode: ffmpeg, {frames} frames sampled (sequential) | {decodeSeconds / count:F3} | {count / decodeSeconds:F2} |");
            Console.WriteLine($"| encode: preprocessing + ONNX Runtime, {frames} frames | {encodeSeconds / count:F3} | {count / encodeSeconds:F2} |");
            Console.WriteLine($"| ML.NET video featurizer end to end (tokens [{frames}, T, D]) | {pipelineSeconds / count:F3} | {count / pipelineSeconds:F2} |");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}

using CoCa.MLNet.Demo;
using CoCa.MLNet.Training.Classification;
using CoCa.MLNet.Training.Pooling;
using CoCa.MLNet.Training.Tests.Classification;
using CoCa.MLNet.Training.Tests.Pooling;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace CoCa.MLNet.Training.Tests;

/// <summary>
/// The ML.NET trainers honour <c>Precision</c> and <c>CheckpointActivations</c>: with bfloat16 they train other
/// (rounded) weights whose losses stay near fp32's and whose ONNX models still score; on a CPU without bfloat16 the
/// MLContext log gets one warning and the weights are fp32's, bit for bit.
/// </summary>
public sealed class TrainerPrecisionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coca-trainer-precision-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool CpuHasBFloat16 => BFloat16Support.IsSupported(TorchSharp.torch.CPU);

    [Fact]
    public void AttentionalPooler_BFloat16_TrainsNearFloat32()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        int[] dims = [12, 16];
        var rows = SyntheticTokens.Needle(160, 12, 16, 3, seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(SyntheticTokens.ToDataView(ml, rows, dims)).Transform(SyntheticTokens.ToDataView(ml, rows, dims));
        AttentionalPoolerOptions Options(TrainingPrecision precision) => new()
        {
            NumberOfEpochs = 4, BatchSize = 16, Seed = 5, NumberOfQueries = 2, NumberOfHeads = 2, LearningRate = 3e-3, Precision = precision,
        };
        var fp32 = ml.MulticlassClassification.Trainers.AttentionalPooler(Options(TrainingPrecision.Float32)).Train(data);
        var bf16 = ml.MulticlassClassification.Trainers.AttentionalPooler(Options(TrainingPrecision.BFloat16)).Train(data);
        output.WriteLine("training loss fp32: " + string.Join(", ", fp32.History.Select(h => h.TrainingLoss.ToString("F4"))));
        output.WriteLine("training loss bf16: " + string.Join(", ", bf16.History.Select(h => h.TrainingLoss.ToString("F4"))));

        bool same = fp32.Weights.Tensors.All(t => t.Value.AsSpan().SequenceEqual(bf16.Weights.Tensors[t.Key]));
        if (CpuHasBFloat16)
        {
            Assert.Empty(warnings);
            Assert.False(same, "bf16 trained exactly the fp32 weights: the pooler's products did not run in bfloat16");
            foreach (var (a, b) in fp32.History.Zip(bf16.History))
                Assert.True(Math.Abs(a.TrainingLoss - b.TrainingLoss) <= 0.02 * a.TrainingLoss, $"epoch {a.Epoch}: bf16 loss {b.TrainingLoss:F4} vs fp32 {a.TrainingLoss:F4}");
        }
        else
        {
            Assert.Contains("training in fp32", Assert.Single(warnings), StringComparison.Ordinal);
            Assert.True(same, "without bfloat16 the pooler must train fp32's weights");
        }
    }

    [Fact]
    public void FineTunedCoCa_BFloat16WithCheckpointing_TrainsNearFloat32_AndScores()
    {
        var checkpoint = TinyCheckpoint.RandomCheckpoint(_dir);
        var files = SyntheticImageDataset.Generate(Path.Combine(_dir, "images"), 3, 8, 40, 36, 0);
        var ml = new MLContext(seed: 0);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var rows = ml.Data.LoadFromEnumerable(files.Select(f => new ImageRow { Image = f.Path, Label = f.Label }));
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(rows).Transform(rows);
        FineTunedCoCaOptions Options(TrainingPrecision precision, bool checkpointing) => new()
        {
            Checkpoint = checkpoint, NumberOfEpochs = 3, BatchSize = 8, LearningRate = 3e-3, EncoderLearningRate = 1e-3, Seed = 0,
            ValidationFraction = 0.25, Precision = precision, CheckpointActivations = checkpointing,
        };
        var fp32 = ml.MulticlassClassification.Trainers.FineTunedCoCa(Options(TrainingPrecision.Float32, false)).Train(data);
        var trainer = ml.MulticlassClassification.Trainers.FineTunedCoCa(Options(TrainingPrecision.BFloat16, true));
        var bf16 = trainer.Train(data);
        output.WriteLine("training loss fp32: " + string.Join(", ", fp32.History.Select(h => h.TrainingLoss.ToString("F4"))));
        output.WriteLine("training loss bf16: " + string.Join(", ", bf16.History.Select(h => h.TrainingLoss.ToString("F4"))));

        const string key = "visual.transformer.resblocks.0.mlp.c_fc.weight";
        bool same = fp32.Vision[key].Data.SequenceEqual(bf16.Vision[key].Data);
        if (CpuHasBFloat16)
        {
            Assert.Empty(warnings);
            Assert.False(same, "bf16 fine-tuning trained exactly the fp32 encoder");
            foreach (var (a, b) in fp32.History.Zip(bf16.History))
                Assert.True(Math.Abs(a.TrainingLoss - b.TrainingLoss) <= 0.02 * a.TrainingLoss, $"epoch {a.Epoch}: bf16 loss {b.TrainingLoss:F4} vs fp32 {a.TrainingLoss:F4}");
        }
        else
        {
            Assert.Contains("training in fp32", Assert.Single(warnings), StringComparison.Ordinal);
            Assert.True(same, "without bfloat16 the classifier must train fp32's weights");
        }

        // The trained weights are float32 arrays; their ONNX model scores like any other.
        using var model = trainer.CreateModel(bf16);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToList();
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 3));
    }

    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
        public string Label { get; set; } = "";
    }
}

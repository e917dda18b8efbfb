using System.Diagnostics;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.FineTuning;
using static CoCa.MLNet.Benchmarks.FeaturizerBenchmark;

namespace CoCa.MLNet.Benchmarks;

/// <summary>
/// The demo's tiny CoCa recipe (<see cref="TinyCoCaRecipe"/>: 512 generated captioned pictures, batch 32, 14 epochs =
/// 224 optimizer steps, from scratch) trained twice, in fp32 and in bf16 mixed precision (optionally with activation
/// checkpointing), same seed and data: each epoch's losses side by side and the last epoch's relative difference
/// (goal: within 2 %), with the wall time of each run.
/// A third run, fp32 with the next seed, gives the yardstick: how far two fp32 runs of the same recipe land apart, so a
/// bf16 difference can be told from the run-to-run spread of this short, chaotic from-scratch training.
/// Options: --epochs 14, --pictures 512, --checkpoint-activations (for the bf16 run), --keep (leave the folder).
/// </summary>
internal static class RecipeBenchmark
{
    public static int Run(string[] args)
    {
        var recipe = new TinyCoCaRecipe();
        int epochs = IntArg(args, "--epochs", recipe.Epochs);
        int pictures = IntArg(args, "--pictures", recipe.Pictures);
        bool checkpointing = args.Contains("--checkpoint-activations");
        Console.WriteLine($"machine: {MachineInfo.Describe()}; CPU bfloat16 instructions (AVX-512 BF16 / AMX): {(BFloat16Support.IsSupported(TorchSharp.torch.CPU) ? "yes" : "no")}");
        var folder = Directory.CreateTempSubdirectory("coca-recipe-bench-").FullName;
        try
        {
            var vocabulary = CaptionVocabulary.Write(Path.Combine(folder, "vocabulary"), TinyCoCa.Words);
            CaptionedPicturesDataset.Generate(Path.Combine(folder, "train"), pictures, size: TinyCoCa.ImageSize, seed: recipe.DataSeed);
            var pairs = ImageCaptionPairs.Read(Path.Combine(folder, "train", "pairs.csv"));
            var scratch = Path.Combine(folder, "scratch");
            OpenClipConfigWriter.Write(TinyCoCa.Config, scratch);
            Console.WriteLine($"tiny recipe: {pictures} pictures, batch {recipe.BatchSize}, {epochs} epochs ({pictures / recipe.BatchSize * epochs} steps), lr {recipe.LearningRate}, seed {recipe.Seed}");

            List<CoCaFineTuneProgress> Train(string name, TrainingPrecision precision, bool checkpoint, int seed)
            {
                var epochsDone = new List<CoCaFineTuneProgress>();
                var clock = Stopwatch.StartNew();
                CoCaFineTuner.Train(new CoCaFineTuneOptions
                {
                    Checkpoint = scratch, VocabularyPath = vocabulary, OutputDirectory = Path.Combine(folder, name),
                    Epochs = epochs, BatchSize = recipe.BatchSize, LearningRate = recipe.LearningRate,
                    WarmupFraction = recipe.WarmupFraction, WeightDecay = recipe.WeightDecay, Seed = seed,
                    ProgressEverySteps = 1_000_000, Precision = precision, CheckpointActivations = checkpoint,
                    Log = new InlineProgress<string>(line => Console.WriteLine($"{name}: {line}")),
                    Progress = new InlineProgress<CoCaFineTuneProgress>(p => { if (p.EndOfEpoch) { epochsDone.Add(p); Console.WriteLine($"{name}: {p}"); } }),
                }, pairs);
                Console.WriteLine($"{name}: trained in {clock.Elapsed.TotalSeconds:F1} s");
                return epochsDone;
            }

            var fp32 = Train("fp32", TrainingPrecision.Float32, false, recipe.Seed);
            var bf16 = Train(checkpointing ? "bf16+ckpt" : "bf16", TrainingPrecision.BFloat16, checkpointing, recipe.Seed);
            var otherSeed = Train("fp32-next-seed", TrainingPrecision.Float32, false, recipe.Seed + 1);
            Console.WriteLine();
            Console.WriteLine("| epoch | step | fp32 total (contrastive, caption) | bf16 total (contrastive, caption) | bf16 vs fp32 | fp32, next seed, vs fp32 |");
            Console.WriteLine("| ---: | ---: | --- | --- | ---: | ---: |");
            static string Diff(CoCaFineTuneProgress x, CoCaFineTuneProgress reference) => $"{(x.TotalLoss - reference.TotalLoss) / reference.TotalLoss:+0.00%;-0.00%}";
            for (int i = 0; i < Math.Min(fp32.Count, Math.Min(bf16.Count, otherSeed.Count)); i++)
            {
                var (a, b) = (fp32[i], bf16[i]);
                Console.WriteLine($"| {a.Epoch} | {a.Step} | {a.TotalLoss:F4} ({a.ContrastiveLoss:F4}, {a.CaptionLoss:F4}) | {b.TotalLoss:F4} ({b.ContrastiveLoss:F4}, {b.CaptionLoss:F4}) | {Diff(b, a)} | {Diff(otherSeed[i], a)} |");
            }
            double last = Math.Abs(bf16[^1].TotalLoss - fp32[^1].TotalLoss) / fp32[^1].TotalLoss;
            double spread = Math.Abs(otherSeed[^1].TotalLoss - fp32[^1].TotalLoss) / fp32[^1].TotalLoss;
            Console.WriteLine($"last epoch: bf16 total loss {last:P2} from fp32's ({(last <= 0.02 ? "within" : "NOT within")} the 2 % goal); two fp32 runs one seed apart: {spread:P2}");
            return 0;
        }
        finally
        {
            if (!args.Contains("--keep")) Directory.Delete(folder, recursive: true);
            else Console.WriteLine($"kept {folder}");
        }
    }
}

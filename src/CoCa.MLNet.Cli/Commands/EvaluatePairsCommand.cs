using System.CommandLine;
using System.Text.Json.Nodes;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca evaluate-pairs --checkpoint DIR --data PAIRS.csv [--batch-size 64] [--json]</c>: CoCa's unweighted contrastive
/// and caption losses and image↔text recall@1/@5 on a set of pairs.
/// </summary>
internal static class EvaluatePairsCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "open_clip CoCa folder (open_clip_config.json + weights)", Required = true };
        var data = new Option<string>("--data", "-d") { Description = "Pairs: CSV with header image,caption (paths relative to the CSV) or JSON Lines", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "open_clip's bpe_simple_vocab_16e6.txt.gz (default: the one in the checkpoint folder)" };
        var batch = new Option<int>("--batch-size") { Description = "Pairs per batch (losses: the whole set when it fits, else the mean over batches)", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var device = OptionChecks.Device("CUDA needs a CUDA build of libtorch");
        var command = new Command("evaluate-pairs", "Contrastive and caption loss and image<->text retrieval recall of a CoCa on image-caption pairs")
        {
            checkpoint, data, vocab, batch, json, device,
        };
        command.SetAction(parse =>
        {
            var checkpointDir = parse.GetValue(checkpoint)!;
            var pairs = ImageCaptionPairs.Read(parse.GetValue(data)!);
            var m = CoCaFineTuner.Evaluate(checkpointDir, PairsVocabulary.Resolve(parse.GetValue(vocab), checkpointDir), pairs,
                Math.Max(1, parse.GetValue(batch)), parse.GetValue(device)!);
            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["pairs"] = m.Pairs,
                    ["contrastive_loss"] = m.ContrastiveLoss,
                    ["caption_loss"] = m.CaptionLoss,
                    ["image_to_text_recall"] = new JsonObject { ["1"] = m.ImageToTextRecallAt1, ["5"] = m.ImageToTextRecallAt5 },
                    ["text_to_image_recall"] = new JsonObject { ["1"] = m.TextToImageRecallAt1, ["5"] = m.TextToImageRecallAt5 },
                };
                Console.WriteLine(o.ToJsonString());
            }
            else
            {
                Console.WriteLine($"pairs                {m.Pairs}");
                Console.WriteLine($"contrastive loss     {m.ContrastiveLoss:F6}");
                Console.WriteLine($"caption loss         {m.CaptionLoss:F6}");
                Console.WriteLine($"image→text recall@1  {m.ImageToTextRecallAt1:P2}   recall@5 {m.ImageToTextRecallAt5:P2}");
                Console.WriteLine($"text→image recall@1  {m.TextToImageRecallAt1:P2}   recall@5 {m.TextToImageRecallAt5:P2}");
            }
            return 0;
        });
        return command;
    }
}

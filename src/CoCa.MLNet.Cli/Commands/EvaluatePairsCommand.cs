using System.CommandLine;
using System.Text.Json.Nodes;
using CoCa.MLNet.Scoring;
using CoCa.MLNet.Training.Checkpoints;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca evaluate-pairs --checkpoint DIR --data PAIRS.csv [--batch-size 64] [--frames 16] [--json]</c>: CoCa's
/// unweighted contrastive and caption losses and image↔text recall@1/@5/@10 on a set of pairs, as the paper measures
/// retrieval (rows sharing an image are one image with several captions; a video row is the mean of its frames).
/// </summary>
internal static class EvaluatePairsCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "open_clip CoCa folder (open_clip_config.json + weights)", Required = true }
            .Existing(ExpectedInput.Checkpoint);
        var data = new Option<string>("--data", "-d") { Description = "Pairs: CSV with header image,caption (paths relative to the CSV; rows sharing an image are one image; an image may be a video file or a folder of frames) or JSON Lines", Required = true }
            .Existing(ExpectedInput.Pairs);
        var vocab = new Option<string?>("--vocab") { Description = "open_clip's bpe_simple_vocab_16e6.txt.gz (default: the one in the checkpoint folder)" }
            .Existing(ExpectedInput.Vocabulary);
        var batch = new Option<int>("--batch-size") { Description = "Pairs per batch (losses: the whole set when it fits, else the mean over batches)", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var frames = new Option<int>("--frames") { Description = "Frames sampled uniformly per video; a video's embedding is their mean", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var device = OptionChecks.Device("CUDA needs a CUDA build of libtorch");
        var command = new Command("evaluate-pairs", "Contrastive and caption loss and image<->text (or video<->text) retrieval recall@1/5/10 of a CoCa on image-caption pairs")
        {
            checkpoint, data, vocab, batch, frames, json, device,
        };
        command.SetAction(parse =>
        {
            // Checks before any work: the checkpoint folder, the vocabulary, every row of the pairs file.
            var checkpointDir = CoCaCheckpointFolder.RequireCheckpointFolder(parse.GetValue(checkpoint)!);
            var vocabulary = PairsVocabulary.Resolve(parse.GetValue(vocab), checkpointDir);
            var pairs = ImageCaptionPairs.Read(parse.GetValue(data)!);
            var m = CoCaFineTuner.Evaluate(checkpointDir, vocabulary, pairs, parse.GetValue(batch), parse.GetValue(device)!, parse.GetValue(frames));
            // The library refuses non-finite losses and embeddings, so every number here is finite.
            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["pairs"] = m.Pairs,
                    ["images"] = m.Images,
                    ["videos"] = m.Videos,
                    ["contrastive_loss"] = m.ContrastiveLoss,
                    ["caption_loss"] = m.CaptionLoss,
                    // A recall that is 100 % for any model (k ≥ the places the right answer can take) is null, not 1.
                    ["image_to_text_recall"] = Recalls(m.Retrieval, imageToText: true, m.ImageToTextRecallAt1, m.ImageToTextRecallAt5, m.ImageToTextRecallAt10),
                    ["text_to_image_recall"] = Recalls(m.Retrieval, imageToText: false, m.TextToImageRecallAt1, m.TextToImageRecallAt5, m.TextToImageRecallAt10),
                    ["image_to_text_ranks"] = m.Retrieval.ImageToTextRanks,
                    ["text_to_image_ranks"] = m.Retrieval.TextToImageRanks,
                };
                Console.WriteLine(o.ToJsonString());
            }
            else
            {
                Console.WriteLine($"pairs                {m.Pairs}");
                Console.WriteLine($"images               {m.Images}{(m.Videos > 0 ? $" ({m.Videos} videos, {parse.GetValue(frames)} frames each)" : "")}");
                if (m.ContrastiveLoss is { } contrastive && m.CaptionLoss is { } caption)
                {
                    string over = m.Videos > 0 ? "   (image pairs only)" : "";
                    Console.WriteLine($"contrastive loss     {contrastive:F6}{over}");
                    Console.WriteLine($"caption loss         {caption:F6}{over}");
                }
                else
                    Console.WriteLine("losses               none (every pair is a video; CoCa's losses are defined on images)");
                var r = m.Retrieval;
                Console.WriteLine($"image→text recall@1  {r.Format(m.ImageToTextRecallAt1, 1, true, 2)}   recall@5 {r.Format(m.ImageToTextRecallAt5, 5, true, 2)}   recall@10 {r.Format(m.ImageToTextRecallAt10, 10, true, 2)}");
                Console.WriteLine($"text→image recall@1  {r.Format(m.TextToImageRecallAt1, 1, false, 2)}   recall@5 {r.Format(m.TextToImageRecallAt5, 5, false, 2)}   recall@10 {r.Format(m.TextToImageRecallAt10, 10, false, 2)}");
                if (!r.IsMeasured(10, true) || !r.IsMeasured(10, false))
                    Console.WriteLine($"                     n/a: the right answer is always among the top k of so few candidates, so any model scores 100 %; evaluate on more pairs");
            }
            return 0;
        });
        return command;
    }

    private static JsonObject Recalls(RetrievalRecall retrieval, bool imageToText, double at1, double at5, double at10) => new()
    {
        ["1"] = retrieval.IsMeasured(1, imageToText) ? (double?)at1 : null,
        ["5"] = retrieval.IsMeasured(5, imageToText) ? (double?)at5 : null,
        ["10"] = retrieval.IsMeasured(10, imageToText) ? (double?)at10 : null,
    };
}

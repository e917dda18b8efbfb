#:project ../src/CoCa.MLNet/CoCa.MLNet.csproj
#:project ../src/CoCa.MLNet.Demo/CoCa.MLNet.Demo.csproj
#:project CoCa.MLNet.SampleKit/CoCa.MLNet.SampleKit.csproj
#:property PublishAot=false

// The captioning notebook as a C# file-based app: `dotnet run samples/captioning.cs`. Options: --checkpoint <open_clip
// hub folder with the text tower and decoder> and --vocab <bpe_simple_vocab_16e6.txt.gz>, --data <folder of images>,
// --work <output folder>. Without them: the tiny CoCa trained from scratch on generated captioned pictures (trained once,
// then cached), captioning six new pictures next to their true captions, scored with COCO's caption metrics.
using CoCa.MLNet.Captioning;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Evaluation;
using CoCa.MLNet.Demo;
using CoCa.MLNet.Samples;
using Microsoft.ML;
using Microsoft.ML.Data;

return SampleArguments.RunMain(args, "captioning.cs", "the captioning notebook as a file-based app",
    new Dictionary<string, string> { ["checkpoint"] = "open_clip hub folder", ["vocab"] = "CLIP vocabulary", ["data"] = "folder of images", ["work"] = "output folder" }, arguments =>
{
    var work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "captioning-walkthrough"));
    var ml = new MLContext(0);

    // 1. A checkpoint with its text tower and decoder → vision.onnx + caption_image.onnx + caption_step.onnx (KV cache).
    //    Without one: the tiny CoCa (TinyCoCa.Get trains it once).
    TinyCoCaModel? tiny = arguments.Get("checkpoint") is null ? TinyCoCa.Get(log: Console.WriteLine) : null;
    var checkpoint = arguments.GetExistingPath("checkpoint") ?? tiny!.HubFolder;
    var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
    Console.WriteLine($"caption decoder converted: {model.HasCaptioner}");

    // 2. The CLIP vocabulary: open_clip's bpe_simple_vocab_16e6.txt.gz for a real checkpoint, the tiny CoCa's own otherwise.
    var vocab = arguments.GetExistingPath("vocab") ?? tiny?.VocabularyPath ?? throw new ArgumentException("--vocab bpe_simple_vocab_16e6.txt.gz is needed with --checkpoint");

    // 3. Images. Built-in: six new captioned pictures, whose true captions are kept to compare.
    var dataFolder = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
    var truth = arguments.Get("data") is null ? TinyCoCa.HeldOutPictures(dataFolder, count: 6, seed: 2).ToDictionary(p => p.Path, p => p.Caption) : [];
    var paths = ImageFolder.Read(dataFolder);
    var images = ml.Data.LoadFromEnumerable(paths.Select(p => new ImageRow { Image = p }));

    // 4. Captions, as open_clip's generate() writes them: beam search with 6 beams, 30 tokens at most (fewer when the
    //    text tower's context is shorter: the tiny CoCa's is 8).
    var captioner = ml.Transforms.GenerateCoCaCaption(model.Directory, vocab, inputColumnName: "Image", outputColumnName: "Caption",
        new CaptionGenerationOptions { Decoding = CaptionDecoding.BeamSearch, Beams = 6, MaxTokens = Math.Min(30, model.Config.Text.ContextLength) }).Fit(images);
    var captions = captioner.Transform(images).GetColumn<ReadOnlyMemory<char>>("Caption").Select(c => c.ToString()).ToList();
    for (int i = 0; i < paths.Count; i++)
        Console.WriteLine($"{Path.GetFileName(paths[i])}\t{(captions[i].Length > 60 ? captions[i][..57] + "..." : captions[i])}" + (truth.TryGetValue(paths[i], out var t) ? $"\t(true: {t})" : ""));

    // 5. How good the captions are: pycocoevalcap's BLEU, ROUGE-L and CIDEr-D against the true captions (one reference a
    //    picture here; COCO has five). Your own --data has no references: skipped.
    if (truth.Count > 0)
    {
        var scores = CaptionMetrics.Compute(truth.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)new[] { p.Value }),
            paths.Select((path, i) => (path, i)).ToDictionary(x => x.path, x => captions[x.i]));
        Console.WriteLine($"BLEU-1 {scores.Bleu1:F3}  BLEU-4 {scores.Bleu4:F3}  ROUGE-L {scores.RougeL:F3}  CIDEr {scores.Cider:F3} on {scores.Images} pictures (METEOR and SPICE need Java: not computed)");
    }

    // 6. Saved as one file (vision model, decoder and vocabulary inside) and reloaded.
    var saved = Path.Combine(work, "captioner.zip");
    ml.Model.SaveCoCa(captioner, images.Schema, saved);
    var again = new MLContext().Model.LoadCoCa(saved, out _).Transform(images).GetColumn<ReadOnlyMemory<char>>("Caption").Select(c => c.ToString());
    Console.WriteLine($"reloaded captions identical: {again.SequenceEqual(captions)}; model: {saved}");
});

sealed class ImageRow
{
    public string Image { get; set; } = "";
}

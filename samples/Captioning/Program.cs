using CoCa.MLNet.Captioning;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Demo;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Samples.Captioning;

/// <summary>
/// Image captioning with CoCa's multimodal decoder, as open_clip's generate() writes captions: beam search (6 beams)
/// and greedy, in an ML.NET pipeline that is saved with SaveCoCa and reloaded. Writes captions.tsv and captioner.zip.
/// Runs on built-in data with no arguments (the tiny CoCa trained from scratch on generated captioned pictures).
/// </summary>
public static class Program
{

    public static int Main(string[] args) => SampleArguments.RunMain(args, "Captioning", "image captioning with CoCa's decoder (open_clip's generate())",
        new Dictionary<string, string>
        {
            ["data"] = "folder of images to caption (default: six generated captioned pictures)",
            ["checkpoint"] = "open_clip CoCa checkpoint with its text tower and decoder: hub folder, .safetensors or .bin (default: the tiny CoCa trained from scratch on generated captioned pictures, cached)",
            ["vocab"] = "CLIP vocabulary: bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt (default: the tiny CoCa's own)",
            ["work"] = "output folder (default: <temp>/coca-mlnet-samples/captioning)",
        }, Run);

    private static void Run(SampleArguments arguments)
    {
        string work = Path.GetFullPath(arguments.Get("work") ?? Path.Combine(Path.GetTempPath(), "coca-mlnet-samples", "captioning"));
        Directory.CreateDirectory(work);
        var ml = new MLContext(0);

        // 1. A checkpoint with the text tower and the decoder → vision.onnx, text.onnx, caption_image.onnx + caption_step.onnx.
        //    Without --checkpoint: the tiny CoCa trained from scratch on captioned pictures (trained once, then cached).
        TinyCoCaModel? tiny = arguments.Get("checkpoint") is null ? TinyCoCa.Get(log: Console.WriteLine) : null;
        string checkpoint = arguments.GetExistingPath("checkpoint") ?? tiny!.HubFolder;
        var model = CoCaConverter.Convert(checkpoint, Path.Combine(work, "model"));
        if (!model.HasCaptioner)
            throw new InvalidDataException($"Checkpoint '{checkpoint}' cannot caption: {model.Config.CaptioningUnsupportedReason ?? "it has no text_decoder.* weights"}.");
        string vocab = arguments.GetExistingPath("vocab")
            ?? tiny?.VocabularyPath
            ?? throw new ArgumentException("A real checkpoint needs its CLIP vocabulary: --vocab bpe_simple_vocab_16e6.txt.gz (from open_clip).");
        Console.WriteLine($"model: {model.Directory} (vision + caption decoder), vocabulary: {vocab}");

        // 2. Images: a folder of them. Without --data: six held-out captioned pictures, their true captions kept to compare.
        string data = arguments.GetExistingPath("data") ?? Path.Combine(work, "images");
        var truth = arguments.Get("data") is null
            ? TinyCoCa.HeldOutPictures(data, count: 6, seed: 2).ToDictionary(p => p.Path, p => p.Caption)
            : [];
        var paths = ImageFolder.Read(data);
        var images = ml.Data.LoadFromEnumerable(paths.Select(p => new ImageRow { Image = p }));
        Console.WriteLine($"data: {data}: {paths.Count} images");
        // Captions at most as long as the text tower's context (the tiny CoCa's is 8 tokens; open_clip's default is 30).
        int maxTokens = Math.Min(30, model.Config.Text.ContextLength);

        // 3. Captions in ML.NET: beam search (open_clip's default) with the ids, and greedy.
        var beam = ml.Transforms.GenerateCoCaCaption(new CoCaCaptionOptions
        {
            ModelPath = model.Directory, VocabPath = vocab, InputColumnName = "Image", OutputColumnName = "Caption", IdsColumnName = "CaptionIds",
            Generation = new CaptionGenerationOptions { Decoding = CaptionDecoding.BeamSearch, Beams = 6, MaxTokens = maxTokens, MinTokens = 5 },
        }).Fit(images);
        var greedy = ml.Transforms.GenerateCoCaCaption(model.Directory, vocab, "Image", "Greedy",
            new CaptionGenerationOptions { Decoding = CaptionDecoding.Greedy, MaxTokens = maxTokens }).Fit(images);
        var captions = ml.Data.CreateEnumerable<CaptionRow>(greedy.Transform(beam.Transform(images)), reuseRowObject: false).ToList();
        var table = Path.Combine(work, "captions.tsv");
        using (var writer = new StreamWriter(table))
        {
            writer.WriteLine("image\tbeam\tgreedy\tbeam ids");
            foreach (var c in captions)
            {
                writer.WriteLine($"{c.Image}\t{c.Caption}\t{c.Greedy}\t{string.Join(" ", c.CaptionIds)}");
                Console.WriteLine($"{Path.GetFileName(c.Image)}\tbeam: {Shorten(c.Caption)}\tgreedy: {Shorten(c.Greedy)}" + (truth.TryGetValue(c.Image, out var t) ? $"\ttrue: {t}" : ""));
            }
        }

        // 4. Save the beam-search captioner (vision model, decoder and vocabulary inside); reload it; same captions.
        var saved = Path.Combine(work, "captioner.zip");
        ml.Model.SaveCoCa(beam, images.Schema, saved);
        var reloaded = new MLContext().Model.LoadCoCa(saved, out _);
        var again = reloaded.Transform(images).GetColumn<ReadOnlyMemory<char>>("Caption").Select(t => t.ToString()).ToList();
        Console.WriteLine($"reloaded captions identical: {again.SequenceEqual(captions.Select(c => c.Caption))}");
        Console.WriteLine($"captions: {table}\nmodel: {saved} (image path in, Caption out)");
        if (truth.Count > 0)
            Console.WriteLine($"beam captions exactly right: {captions.Count(c => truth[c.Image] == c.Caption)}/{captions.Count}, naming the right colour: {captions.Count(c => c.Caption.Contains(truth[c.Image].Split(' ')[1]))}/{captions.Count} (chance 1/64 and 1/4)");
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private sealed class ImageRow
    {
        public string Image { get; set; } = "";
    }

    private sealed class CaptionRow
    {
        public string Image { get; set; } = "";
        public string Caption { get; set; } = "";
        public string Greedy { get; set; } = "";
        public long[] CaptionIds { get; set; } = [];
    }
}

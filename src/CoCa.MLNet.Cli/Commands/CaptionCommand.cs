using System.CommandLine;
using System.Text;
using System.Text.Json;
using CoCa.MLNet.Captioning;
using CoCa.MLNet.IO;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca caption --model DIR --vocab VOCAB [--decoding greedy|beam|top-k|top-p] [--beams 6] [--max-tokens 30]
/// [--min-tokens 5] [--top-k K] [--top-p P] [--temperature T] [--seed S] [--out FILE.jsonl] [--skip-unreadable] IMAGE...</c>.
/// Options that the chosen decoding does not read are ignored with a note on stderr. Every readable
/// image is captioned; one that cannot be read (corrupt, empty, missing) gets one line on stderr naming it, and the exit
/// code is then 1.
/// </summary>
internal static class CaptionCommand
{
    private const string Greedy = "greedy", Beam = "beam", TopK = "top-k", TopP = "top-p";

    public static Command Create()
    {
        var defaults = new CaptionGenerationOptions();
        var images = new Argument<string[]>("images") { Description = "Image files or folders of them (sorted by name)", Arity = ArgumentArity.OneOrMore }
            .BatchInputs("image files or folders of them");
        var model = new Option<string>("--model", "-m") { Description = "Converted model folder with the caption decoder (from coca convert)", Required = true }
            .Existing("a converted model folder with the caption decoder (from coca convert)");
        var vocab = new Option<string>("--vocab") { Description = "open_clip's bpe_simple_vocab_16e6.txt.gz (or a CLIP vocab.json with merges.txt beside it)", Required = true }
            .Existing(ExpectedInput.Vocabulary);
        var decoding = new Option<string>("--decoding") { Description = "greedy | beam | top-k | top-p (open_clip's default: beam)", DefaultValueFactory = _ => Beam }
            .OneOf([Greedy, Beam, TopK, TopP]);
        var beams = new Option<int>("--beams") { Description = "Beams for beam search", DefaultValueFactory = _ => defaults.Beams }.AtLeast(1);
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens in all, the start token included (open_clip's seq_len)", DefaultValueFactory = _ => defaults.MaxTokens }
            .Between(2, CaptionGenerationOptions.MaxSupportedTokens, "the start token counts, and the text tower has 76 positions");
        var minTokens = new Option<int>("--min-tokens") { Description = "No end token before this many tokens (open_clip's min_seq_len)", DefaultValueFactory = _ => defaults.MinTokens }.AtLeast(0);
        minTokens.Validators.Add(r =>
        {
            // open_clip requires seq_len > min_seq_len; said in the options' names, the default named as such.
            if (r.TryGetValid(maxTokens, out int max) && r.TryGetValid(minTokens, out int min) && min >= max)
                r.AddError($"{minTokens.Name} {min}{(r.Implicit ? " (the default)" : "")} must be below {maxTokens.Name} {max}.");
        });
        var topK = new Option<int?>("--top-k") { Description = "Tokens kept for sampling (default 1 for top-k, 50 for top-p)" }.AtLeast(1);
        var topP = new Option<double>("--top-p") { Description = "Nucleus mass for top-p", DefaultValueFactory = _ => defaults.TopP }.InRange(0, false, 1, true);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature", DefaultValueFactory = _ => defaults.Temperature }.Positive();
        var seed = new Option<int>("--seed") { Description = "Seed for top-k/top-p sampling", DefaultValueFactory = _ => defaults.Seed }.AnyWholeNumber();
        var penalty = new Option<double>("--repetition-penalty") { Description = "Hugging Face's repetition penalty (1: none)", DefaultValueFactory = _ => defaults.RepetitionPenalty }.Positive();
        var outFile = new Option<string?>("--out", "-o") { Description = "Write JSON lines {input, text, ids} here instead of printing path<TAB>caption" }.OutputFile("captions.jsonl");
        var batch = new Option<int>("--batch-size") { Description = "Images per batch", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: all cores)" }.Between(0, Runtime.OnnxExecutionOptions.MaxThreads);
        var device = OptionChecks.Device("CUDA needs the GPU build, -p:OnnxRuntime=Gpu; falls back to the CPU");
        var gpu = OptionChecks.LegacyGpu();
        var skipUnreadable = InputPaths.SkipUnreadableOption();
        var command = new Command("caption", "Write captions of images with CoCa's decoder (open_clip's generate())")
            { images, model, vocab, decoding, beams, maxTokens, minTokens, topK, topP, temperature, seed, penalty, outFile, batch, threads, device, gpu, skipUnreadable };
        // The options that only some decodings read: given with another decoding, they are ignored with a note.
        var onlyFor = new (Option Option, string[] Decodings)[]
        {
            (beams, [Beam]), (topK, [TopK, TopP]), (topP, [TopP]), (temperature, [TopK, TopP]), (seed, [TopK, TopP]),
        };
        command.SetAction(parse =>
        {
            var chosen = parse.GetValue(decoding)!;
            var ignored = onlyFor.Where(o => parse.Given(o.Option) && !o.Decodings.Contains(chosen)).Select(o => o.Option.Name).ToList();
            if (ignored.Count > 0)
                Console.Error.WriteLine($"coca: note: {string.Join(", ", ignored)} {(ignored.Count == 1 ? "does" : "do")} not apply to {decoding.Name} {chosen}{(parse.Given(decoding) ? "" : " (the default)")}; ignored.");
            var missing = new List<string>();
            var inputs = InputPaths.Expand(parse.GetValue(images)!, InputPaths.ImageExtensions, "image", parse.GetValue(skipUnreadable), missing);
            var options = new CaptionGenerationOptions
            {
                Decoding = chosen switch
                {
                    Greedy => CaptionDecoding.Greedy,
                    TopK => CaptionDecoding.TopK,
                    TopP => CaptionDecoding.TopP,
                    _ => CaptionDecoding.BeamSearch,
                },
                Beams = parse.GetValue(beams),
                MaxTokens = parse.GetValue(maxTokens),
                MinTokens = parse.GetValue(minTokens),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                Temperature = parse.GetValue(temperature),
                Seed = parse.GetValue(seed),
                RepetitionPenalty = parse.GetValue(penalty),
            };
            var output = parse.GetValue(outFile);
            if (output is not null) OptionChecks.CheckOutputFile(output, outFile.Name, "captions.jsonl");
            var execution = new OnnxExecutionOptions { IntraOpNumThreads = parse.GetValue(threads), Device = parse.DeviceValue(device, gpu) };
            using var captioner = CoCaCaptioner.Open(parse.GetValue(model)!, parse.GetValue(vocab)!, execution);
            int vocabulary = captioner.Decoder.VocabularySize;
            if (options.Decoding == CaptionDecoding.BeamSearch && options.Beams > vocabulary)
                throw new OptionValueException($"--beams {options.Beams} is more than the {vocabulary} tokens of the vocabulary of model '{parse.GetValue(model)}' (give at most {vocabulary}).");
            options.Validate(vocabulary);
            OptionChecks.NoteCpuFallback(execution, captioner.Images.Encoder.OnGpu);
            foreach (var line in missing) Console.Error.WriteLine($"coca: {line}");
            // --out is written beside its final name and renamed when every input has been through: a failure on the
            // way leaves no half-written file there, and an older file untouched.
            using var file = output is null ? null : new AtomicFile(output);
            var writer = file is null ? null : new StreamWriter(file.Stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            int size = parse.GetValue(batch), captioned = 0, unreadable = missing.Count;
            for (int start = 0; start < inputs.Count; start += size)
            {
                var chunk = inputs.Skip(start).Take(size).ToList();
                var captions = captioner.CaptionReadable(chunk.Cast<object>().ToList(), options, start);
                for (int i = 0; i < chunk.Count; i++)
                {
                    if (captions[i].Caption is not { } caption)
                    {
                        // One line per input that cannot be read, naming it; the others are still captioned.
                        Console.Out.Flush();
                        Console.Error.WriteLine($"coca: {captions[i].Unreadable}");
                        unreadable++;
                    }
                    else
                    {
                        if (writer is null) Console.WriteLine($"{chunk[i]}\t{caption.Text}");
                        else writer.WriteLine(JsonLine(chunk[i], caption));
                        captioned++;
                    }
                }
            }
            if (file is not null && (captioned > 0 || unreadable == 0))   // nothing readable: an older file stays
            {
                writer!.Dispose();
                file.Commit();
                Console.WriteLine($"Wrote {output} ({captioned} caption{(captioned == 1 ? "" : "s")}{(unreadable > 0 ? $"; {unreadable} unreadable input{(unreadable == 1 ? "" : "s")} left out, named above" : "")})");
            }
            return unreadable == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>{"input": path, "text": caption, "ids": [...]} on one line.</summary>
    internal static string JsonLine(string input, CoCaCaption caption)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("input", input);
            json.WriteString("text", caption.Text);
            json.WriteStartArray("ids");
            foreach (var id in caption.Ids) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

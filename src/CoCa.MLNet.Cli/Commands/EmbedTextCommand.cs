using CoCa.MLNet.Cli.Features;
using System.CommandLine;
using CoCa.MLNet.Featurization;
using CoCa.MLNet.IO;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Cli.Commands;

/// <summary><c>coca embed-text --model DIR --vocab FILE --out FILE.npy [--file TEXTS.txt] TEXT...</c></summary>
internal static class EmbedTextCommand
{
    public static Command Create()
    {
        var texts = new Argument<string[]>("text") { Description = "Texts to embed (quote each one; one starting with '-' goes after --)", Arity = ArgumentArity.ZeroOrMore }.AnyText();
        var model = new Option<string>("--model", "-m") { Description = "Converted model folder with the text tower (from coca convert)", Required = true }
            .Existing("a converted model folder with the text tower (from coca convert)");
        var vocab = new Option<string>("--vocab") { Description = "open_clip's bpe_simple_vocab_16e6.txt.gz (or a CLIP vocab.json with merges.txt beside it)", Required = true }
            .Existing(ExpectedInput.Vocabulary);
        var file = new Option<string?>("--file", "-f") { Description = "A UTF-8 file with one text per line, embedded after the TEXT arguments" }
            .Existing("a UTF-8 text file with one text per line");
        var outFile = new Option<string>("--out", "-o") { Description = "The .npy file to write: float32 [N, E] text embeddings, not normalized", Required = true }.OutputFile("text.npy");
        var batch = new Option<int>("--batch-size") { Description = "Texts per text-tower call", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: all cores)" }.Between(0, Runtime.OnnxExecutionOptions.MaxThreads);
        var device = OptionChecks.Device("CUDA needs the GPU build, -p:OnnxRuntime=Gpu; falls back to the CPU");
        var gpu = OptionChecks.LegacyGpu();
        var command = new Command("embed-text", "Embed texts with CoCa's text tower into a .npy file") { texts, model, vocab, file, outFile, batch, threads, device, gpu };
        command.Validators.Add(r =>
        {
            if (r.GetResult(texts) is not { Tokens.Count: > 0 } && !r.Given(file))
                r.AddError($"Nothing to embed: give TEXT arguments or {file.Name} with one text per line.");
        });
        command.SetAction(parse =>
        {
            OptionChecks.CheckOutputFile(parse.GetValue(outFile)!, outFile.Name, "text.npy");
            var inputs = new List<string>(parse.GetValue(texts) ?? []);
            if (parse.GetValue(file) is { } path)
            {
                if (Directory.Exists(path)) throw new InvalidDataException($"{file.Name} '{path}' is a folder; expected a UTF-8 text file with one text per line.");
                inputs.AddRange(ReadLines(path));
            }
            if (inputs.Count == 0) throw new InvalidDataException($"Nothing to embed: '{parse.GetValue(file)}' holds no text.");
            var execution = new OnnxExecutionOptions { IntraOpNumThreads = parse.GetValue(threads), Device = parse.DeviceValue(device, gpu) };
            using var extractor = CoCaTextFeatureExtractor.Open(parse.GetValue(model)!, parse.GetValue(vocab)!, execution);
            var embeddings = extractor.Embed(inputs, parse.GetValue(batch));
            var output = parse.GetValue(outFile)!;
            Npy.Write(output, embeddings, inputs.Count, extractor.EmbedDim);
            Console.WriteLine($"Wrote {output} [{inputs.Count}, {extractor.EmbedDim}]");
            return 0;
        });
        return command;
    }

    /// <summary>Lines of a text file; a final newline does not make an extra empty text.</summary>
    private static IEnumerable<string> ReadLines(string path)
    {
        var lines = File.ReadAllText(path).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}

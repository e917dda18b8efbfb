using CoCa.MLNet.Cli.Features;
using System.CommandLine;
using CoCa.MLNet.IO;
using CoCa.MLNet.Text;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca tokenize</c>: open_clip's CLIP token ids for texts, as int64 [N, L] (.npy with --out, else one row
/// of ids per line on stdout), so ids can be checked against Python or fed to another tool.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var vocab = new Option<string>("--vocab") { Description = "CLIP BPE vocabulary: bpe_simple_vocab_16e6.txt.gz, or vocab.json with merges.txt beside it", Required = true }
            .Existing(ExpectedInput.Vocabulary);
        var contextLength = new Option<int>("--context-length") { Description = "Ids per text (CoCa: 76)", DefaultValueFactory = _ => ClipTokenizer.DefaultContextLength }.AtLeast(1);
        var output = new Option<string?>("--out", "-o") { Description = "Write int64 [N, context length] ids to this .npy file instead of printing them" }.OutputFile("ids.npy");
        var texts = new Argument<string[]>("texts") { Description = "Texts to tokenize (one starting with '-' goes after --)", Arity = ArgumentArity.OneOrMore }.AnyText();
        var command = new Command("tokenize", "Turn texts into open_clip's CLIP token ids (start, BPE ids, end, zero padding)") { vocab, contextLength, output, texts };
        command.SetAction(parse => Run(parse.GetValue(vocab)!, parse.GetValue(contextLength), parse.GetValue(output), parse.GetValue(texts)!));
        return command;
    }

    private static int Run(string vocabPath, int contextLength, string? output, string[] texts)
    {
        if (output is not null) OptionChecks.CheckOutputFile(output, "--out", "ids.npy");
        var tokenizer = ClipTokenizer.FromFile(vocabPath);
        var ids = tokenizer.EncodeBatch(texts, contextLength);
        if (output is not null)
        {
            Npy.Write(output, ids, texts.Length, contextLength);
            Console.WriteLine($"{output}: int64 [{texts.Length}, {contextLength}]");
            return 0;
        }
        for (int i = 0; i < texts.Length; i++)
            Console.WriteLine(string.Join(' ', ids.AsSpan(i * contextLength, contextLength).ToArray()));
        return 0;
    }
}

namespace CoCa.MLNet.Cli.Commands;

/// <summary>The CLIP vocabulary for the pair commands: --vocab, else the one a fine-tuned folder carries.</summary>
internal static class PairsVocabulary
{
    private static readonly string[] Names = ["bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt", "vocab.json"];

    public static string Resolve(string? vocab, string checkpoint)
    {
        if (vocab is not null) return vocab;
        foreach (var name in Names)
        {
            var candidate = Path.Combine(checkpoint, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new ArgumentException(
            $"No vocabulary: give --vocab bpe_simple_vocab_16e6.txt.gz (open_clip's CLIP vocabulary), or put it into the checkpoint folder '{checkpoint}' (coca finetune writes it beside the model).");
    }
}

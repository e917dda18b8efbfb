namespace CoCa.MLNet.Cli.Commands;

/// <summary>What the input options of several commands name, in the words of their "does not exist; expected ..." lines.</summary>
internal static class ExpectedInput
{
    public const string ConvertedModel = "a converted model folder (from coca convert)";
    public const string Vocabulary = "open_clip's bpe_simple_vocab_16e6.txt.gz (or a CLIP vocab.json with merges.txt beside it)";
    public const string ClassFolders = "a dataset folder with one sub-folder per class";
    public const string TrainedModel = "a model file saved by coca train (MODEL.zip)";
    public const string Pairs = "a pairs file (CSV with header image,caption, or JSON Lines)";
    public const string Checkpoint = "an open_clip CoCa checkpoint folder (open_clip_config.json + weights)";
}

namespace CoCa.MLNet;

/// <summary>
/// The default column names of CoCa.MLNet's estimators, one place for all: the featurizers write
/// <see cref="Tokens"/> and the attentional pooler trainer reads <see cref="Tokens"/>, so
/// <c>ExtractCoCaImageFeatures(...).Append(AttentionalPooler(new AttentionalPoolerOptions()))</c> needs no column names.
/// </summary>
public static class CoCaColumnNames
{
    /// <summary>Image input: a path (text) or an <c>MLImage</c>.</summary>
    public const string Image = "Image";

    /// <summary>Video input: a video file path or a folder of frame images.</summary>
    public const string Video = "Video";

    /// <summary>The frozen encoder's output tokens, [T, D] (images) or [F, T, D] (videos): the featurizers' output, the pooler's input.</summary>
    public const string Tokens = "Tokens";

    /// <summary>CoCa's contrastive embedding [E]: the featurizers' output, the zero-shot classifier's input.</summary>
    public const string Embedding = "Embedding";

    /// <summary>The label: a key (e.g. from <c>MapValueToKey</c>) for training.</summary>
    public const string Label = "Label";

    /// <summary>Class probabilities, Vector&lt;Single, K&gt;.</summary>
    public const string Score = "Score";

    /// <summary>The most probable class, a key of the label's type.</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>Text input of the text tower (zero-shot prompts, retrieval queries, captions to embed).</summary>
    public const string Text = "Text";

    /// <summary>CoCa's text embedding [E], in the image embedding's space: the text featurizer's output.</summary>
    public const string TextEmbedding = "TextEmbedding";

    /// <summary>A generated caption (the captioner's output), or the caption a caption metric scores.</summary>
    public const string Caption = "Caption";

    /// <summary>A row's reference captions (text vector), what caption metrics compare a caption with.</summary>
    public const string References = "References";
}

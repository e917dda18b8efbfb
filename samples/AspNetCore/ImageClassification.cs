using Microsoft.ML.Data;

namespace CoCa.MLNet.Samples.AspNetCore;

/// <summary>What the classifier reads: an image file's path (the upload, written to a temporary file).</summary>
public sealed class ImageInput
{
    public string Image { get; set; } = "";

    /// <summary>Reads <see cref="Image"/> as the model's input column <paramref name="column"/> (<c>coca train</c> models: <c>Path</c>).</summary>
    public static SchemaDefinition Schema(string column)
    {
        var schema = SchemaDefinition.Create(typeof(ImageInput));
        schema[nameof(Image)].ColumnName = column;
        return schema;
    }
}

/// <summary>What it gives: the predicted class name and the probability of every class.</summary>
public sealed class ImagePrediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}

/// <summary>The JSON answer: the label, its probability, and the most probable classes.</summary>
public sealed record ClassifyResponse(string Label, float Score, IReadOnlyList<ClassScore> Top);

public sealed record ClassScore(string Label, float Score);

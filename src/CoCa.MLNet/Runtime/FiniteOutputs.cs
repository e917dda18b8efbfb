using System.Globalization;
using System.Numerics.Tensors;

namespace CoCa.MLNet.Runtime;

/// <summary>
/// The check that a model's outputs are finite. Weights that overflow (a checkpoint from a diverged training, or
/// tampered with) make NaN or ±Inf for every input; passed on, they become a file of NaN embeddings or a caption of
/// token 0 repeated (the argmax of NaN logits), with no error. Cheap next to the model run: one vectorised pass.
/// </summary>
internal static class FiniteOutputs
{
    private const string MarkKey = "CoCa.MLNet.NonFiniteModelOutput";

    /// <summary>
    /// Whether <paramref name="e"/> is this check's refusal: the model's fault, for every input alike, so callers that set
    /// a bad input aside and go on with the others (<see cref="Transforms.InputErrors.IsBadInput"/>) stop at it instead of
    /// reporting each input. (A mark, not a subclass: <see cref="InvalidDataException"/> is sealed.)
    /// </summary>
    public static bool IsNonFiniteOutput(Exception e) => e.Data[MarkKey] is true;

    /// <summary>Returns <paramref name="values"/> when every one is finite; otherwise throws, naming the model, the output and the row.</summary>
    /// <param name="values">The output's values, batch rows back to back.</param>
    /// <param name="model">The model in words, e.g. "the CoCa vision model 'coca_ViT-B-32'".</param>
    /// <param name="output">The output, e.g. "image embedding".</param>
    /// <param name="rowLength">Values per batch row, to say which row.</param>
    /// <param name="remedy">What to do instead, one sentence.</param>
    public static float[] Require(float[] values, string model, string output, int rowLength, string remedy = "Convert a checkpoint with sound weights.")
    {
        if (values.Length == 0 || float.IsFinite(TensorPrimitives.MaxMagnitude(values))) return values;
        int i = Array.FindIndex(values, v => !float.IsFinite(v));
        string value = values[i].ToString(CultureInfo.InvariantCulture);
        var e = new InvalidDataException($"{char.ToUpperInvariant(model[0])}{model[1..]} computed {value} in its {output} (row {i / Math.Max(1, rowLength) + 1} of the batch): " +
            $"its weights overflow or hold NaN (a checkpoint from a training that diverged?); expected finite numbers. {remedy}");
        e.Data[MarkKey] = true;
        throw e;
    }
}

using CoCa.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Scoring;

/// <summary>
/// The one home of a multiclass scorer's output contract, as ML.NET's own multiclass scorers write it: a Score vector
/// (probabilities; annotations SlotNames and TrainingLabelValues from the label's key values, ScoreColumnKind
/// "MulticlassClassification", ScoreValueKind "Score", ScoreColumnSetId) and a PredictedLabel key (the argmax + 1;
/// KeyValues, the same kinds and set id), so that <c>MulticlassClassification.Evaluate</c> and <c>MapKeyToValue</c>
/// work on it. The zero-shot classifier, the attentional pooler and the fine-tuned classifier use it.
/// </summary>
internal static class MulticlassScoreColumns
{
    public const string SlotNames = "SlotNames";
    public const string TrainingLabelValues = "TrainingLabelValues";
    public const string KeyValues = ClassLabelValues.KeyValuesAnnotation;
    public const string ScoreColumnKind = "ScoreColumnKind";
    public const string ScoreValueKind = "ScoreValueKind";
    public const string ScoreColumnSetId = "ScoreColumnSetId";
    private const string MulticlassKind = "MulticlassClassification";

    /// <summary>The Score and PredictedLabel columns of <paramref name="classes"/> classes over <paramref name="inputSchema"/>.</summary>
    public static OutputColumn[] Create(DataViewSchema inputSchema, string scoreColumn, string predictedLabelColumn, int classes, ClassLabelValues? labels)
    {
        uint setId = NextScoreColumnSetId(inputSchema);
        var score = new DataViewSchema.Annotations.Builder();
        if (labels is not null)
        {
            labels.AddAsText(score, SlotNames);
            labels.AddTo(score, TrainingLabelValues);
        }
        AddKinds(score, setId, "Score");
        var predicted = new DataViewSchema.Annotations.Builder();
        labels?.AddTo(predicted, KeyValues);
        AddKinds(predicted, setId, "PredictedLabel");
        return
        [
            new OutputColumn(scoreColumn, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations()),
            new OutputColumn(predictedLabelColumn, new KeyDataViewType(typeof(uint), classes), predicted.ToAnnotations()),
        ];
    }

    /// <summary>
    /// What an estimator promises in <c>GetOutputSchema</c>: <paramref name="inputSchema"/> plus the two columns, with the
    /// label-value annotations when the labels have values of type <paramref name="labelValuesType"/> (null: none).
    /// </summary>
    public static SchemaShape Append(SchemaShape inputSchema, string scoreColumn, string predictedLabelColumn, DataViewType? labelValuesType)
    {
        var setId = SchemaShapes.Column(ScoreColumnSetId, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true);
        var kind = SchemaShapes.Column(ScoreColumnKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false);
        var valueKind = SchemaShapes.Column(ScoreValueKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false);
        var scoreAnnotations = new List<SchemaShape.Column> { setId, kind, valueKind };
        var predictedAnnotations = new List<SchemaShape.Column> { setId, kind, valueKind };
        if (labelValuesType is not null)
        {
            scoreAnnotations.Add(SchemaShapes.Column(SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false));
            scoreAnnotations.Add(SchemaShapes.Column(TrainingLabelValues, SchemaShape.Column.VectorKind.Vector, labelValuesType, false));
            predictedAnnotations.Add(SchemaShapes.Column(KeyValues, SchemaShape.Column.VectorKind.Vector, labelValuesType, false));
        }
        return SchemaShapes.Append(inputSchema,
            SchemaShapes.FloatVector(scoreColumn, new SchemaShape(scoreAnnotations)),
            SchemaShapes.Column(predictedLabelColumn, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, new SchemaShape(predictedAnnotations)));
    }

    /// <summary>The predicted key (1-based) of a row of scores: the first highest one.</summary>
    public static uint PredictedKey(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int j = 1; j < scores.Length; j++) if (scores[j] > scores[best]) best = j;
        return (uint)(best + 1);
    }

    private static void AddKinds(DataViewSchema.Annotations.Builder builder, uint setId, string valueKind)
    {
        builder.Add(ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = MulticlassKind.AsMemory());
        builder.Add(ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = valueKind.AsMemory());
        builder.Add(ScoreColumnSetId, new KeyDataViewType(typeof(uint), int.MaxValue), (ref uint v) => v = setId);
    }

    /// <summary>ML.NET numbers the score column sets of a schema 1, 2, ...: one more than any already there.</summary>
    private static uint NextScoreColumnSetId(DataViewSchema schema)
    {
        uint max = 0;
        foreach (var col in schema)
        {
            var a = col.Annotations.Schema.GetColumnOrNull(ScoreColumnSetId);
            if (a is null || a.Value.Type.RawType != typeof(uint)) continue;
            uint id = 0;
            col.Annotations.GetValue(ScoreColumnSetId, ref id);
            max = Math.Max(max, id);
        }
        return max + 1;
    }
}

using CoCa.MLNet.Demo;
using CoCa.MLNet.Featurization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Samples;

/// <summary>Featurized examples held in memory: computed once (with a progress bar), then trained and evaluated on.</summary>
public static class FeatureTable
{
    public sealed class Row
    {
        public string Label { get; set; } = "";
        public float[] Tokens { get; set; } = [];
    }

    /// <summary>
    /// Runs <paramref name="featurizer"/> over <paramref name="inputs"/> and keeps the label and the <c>Tokens</c> column,
    /// with its shape ([T, D] or [F, T, D]) so the pooler trainer sees the token layout.
    /// </summary>
    public static IDataView Compute(MLContext ml, ITransformer featurizer, IDataView inputs, int count, string what)
    {
        var featurized = featurizer.Transform(inputs);
        var rows = new List<Row>(count);
        using (var bar = new ConsoleProgress($"featurizing {what}", count))
        {
            foreach (var row in ml.Data.CreateEnumerable<Row>(featurized, reuseRowObject: false, ignoreMissingColumns: true))
            {
                rows.Add(row);
                bar.Report(rows.Count);
            }
        }
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Tokens)].ColumnType = featurized.Schema["Tokens"].Type;
        return ml.Data.LoadFromEnumerable(rows, schema);
    }
}

/// <summary>A split of the labelled inputs: ML.NET's stratification-free random split, with its row counts for progress bars.</summary>
public static class InputSplit
{
    public static ((IDataView Data, int Count) Train, (IDataView Data, int Count) Test) Split(MLContext ml, List<LabelledInput> inputs, int seed, double testFraction = 0.25)
    {
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(inputs), testFraction, seed: seed);
        var train = ml.Data.CreateEnumerable<LabelledInput>(split.TrainSet, reuseRowObject: false).ToList();
        var test = ml.Data.CreateEnumerable<LabelledInput>(split.TestSet, reuseRowObject: false).ToList();
        if (test.Count == 0) throw new InvalidDataException($"The {inputs.Count} examples leave none for testing; add more data.");
        return ((ml.Data.LoadFromEnumerable(train), train.Count), (ml.Data.LoadFromEnumerable(test), test.Count));
    }

    /// <summary>The input schema of a saved classifier: the <c>Path</c> column alone (no label to score new inputs).</summary>
    public static DataViewSchema PathSchema(MLContext ml) => ml.Data.LoadFromEnumerable(Array.Empty<PathInput>()).Schema;

    public sealed class PathInput
    {
        public string Path { get; set; } = "";
    }
}

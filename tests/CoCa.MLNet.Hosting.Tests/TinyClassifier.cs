using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Hosting.Tests;

/// <summary>
/// A tiny image classifier saved with SaveCoCa, made as users make one: <c>coca train</c> (in its own process) on a
/// folder per class, the six fixture images as wide or tall, over the fixture's tiny CoCa. Its input column is
/// <c>Path</c>, as for every <c>coca train</c> model. <see cref="Expected"/> holds the pipeline's own predictions,
/// from the saved file.
/// </summary>
/// <remarks>Training runs in a child process, so this process serves as a deployed service does: without libtorch.</remarks>
public sealed class TinyClassifier : IDisposable
{
    /// <summary>The input: an image path, read as the model's column <see cref="InputColumn"/>.</summary>
    public sealed class Row
    {
        public string Image { get; set; } = "";
    }

    public sealed class Scored
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    public const string InputColumn = "Path";

    private readonly string _dir = Directory.CreateTempSubdirectory("coca-hosting-").FullName;

    public TinyClassifier()
    {
        Images = TinyModel.ImagePaths();
        (ModelPath, Expected) = Train("wide", "tall");
        _renamed = new(() => Train("landscape", "portrait"));
    }

    private readonly Lazy<(string Path, IReadOnlyList<Scored> Expected)> _renamed;

    /// <summary>Another classifier of the same images, its classes named landscape and portrait (made when first asked for).</summary>
    public (string Path, IReadOnlyList<Scored> Expected) Renamed => _renamed.Value;

    private (string Path, IReadOnlyList<Scored> Expected) Train(string wide, string tall)
    {
        var data = Path.Combine(_dir, $"data-{wide}");
        foreach (var image in Images)
        {
            var folder = Directory.CreateDirectory(Path.Combine(data, IsWide(image) ? wide : tall)).FullName;
            File.Copy(image, Path.Combine(folder, Path.GetFileName(image)));
        }
        var modelPath = Path.Combine(_dir, $"classifier-{wide}.zip");
        var train = CliProcess.Run("train", "--model", TinyModel.Directory, "--data", data, "--out", modelPath, "--epochs", "3", "--seed", "1", "--validation-fraction", "0");
        if (train.ExitCode != 0) throw new InvalidOperationException($"coca train failed ({train.ExitCode}): {train.StdErr}");

        var ml = new MLContext();
        var loaded = ml.Model.LoadCoCa(modelPath, out _);
        var rows = ml.Data.LoadFromEnumerable(Images.Select(p => new Row { Image = p }), InputSchema());
        var expected = ml.Data.CreateEnumerable<Scored>(loaded.Transform(rows), reuseRowObject: false).ToList();
        (loaded as IDisposable)?.Dispose();
        return (modelPath, expected);
    }

    /// <summary>Reads <see cref="Row.Image"/> as the model's <see cref="InputColumn"/>.</summary>
    public static SchemaDefinition InputSchema()
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Image)].ColumnName = InputColumn;
        return schema;
    }

    public string[] Images { get; }

    public string ModelPath { get; }

    public IReadOnlyList<Scored> Expected { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool IsWide(string path)
    {
        var size = Path.GetFileNameWithoutExtension(path).Split('_')[1].Split('x').Select(int.Parse).ToArray();
        return size[0] >= size[1];
    }
}

/// <summary>One classifier for all tests that serve it (trained once per test run).</summary>
[CollectionDefinition(Name)]
public sealed class TinyClassifierCollection : ICollectionFixture<TinyClassifier>
{
    public const string Name = "tiny classifier";
}

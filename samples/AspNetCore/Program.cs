// An image classifier saved with SaveCoCa (a folder-per-class model from `coca train`, or your own pipeline ending in
// MapKeyToValue("PredictedLabel")) behind one endpoint:
//
//   dotnet run --project samples/AspNetCore -- --Model classifier.zip [--InputColumn Path]
//   curl -F image=@photo.jpg http://localhost:5000/classify
//   → {"label":"cat","score":0.91,"top":[{"label":"cat","score":0.91},{"label":"dog","score":0.07},...]}
//
// The model is loaded once at start-up; each request borrows a PredictionEngine from a pool (they are not thread-safe).
using CoCa.MLNet.Hosting;
using CoCa.MLNet.Samples.AspNetCore;
using Microsoft.ML;
using Microsoft.ML.Data;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddCoCaPredictionEnginePool<ImageInput, ImagePrediction>((services, options) =>
{
    var configuration = services.GetRequiredService<IConfiguration>();
    options.ModelPath = configuration["Model"] ?? "classifier.zip";
    // The model's image column: "Image" (the library's default) or "Path" (models written by coca train).
    options.InputSchemaDefinition = ImageInput.Schema(configuration["InputColumn"] ?? "Image");
});

var app = builder.Build();
var pool = app.Services.GetRequiredService<CoCaPredictionEnginePool<ImageInput, ImagePrediction>>();   // load now, fail now
var classes = ClassNames(pool.OutputSchema);

app.MapPost("/classify", async (HttpRequest request, int? top) =>
{
    if (!request.HasFormContentType)
        return Results.BadRequest(new { error = "Send the image as multipart/form-data, field 'image' (curl -F image=@photo.jpg)." });
    var form = await request.ReadFormAsync();
    if (form.Files.GetFile("image") is not { } upload)
        return Results.BadRequest(new { error = "The form has no file field 'image'." });

    // The featurizer reads files (PNG, JPEG, BMP, GIF, WebP, TIFF: open_clip's exact preprocessing), so the upload
    // goes to a temporary file for the duration of the request.
    var path = Path.Combine(Path.GetTempPath(), $"coca-upload-{Guid.NewGuid():N}");
    try
    {
        await using (var file = File.Create(path))
            await upload.CopyToAsync(file);
        ImagePrediction prediction;
        try
        {
            prediction = pool.Predict(new ImageInput { Image = path });
        }
        catch (Exception e) when (e.GetBaseException() is InvalidDataException)
        {
            return Results.BadRequest(new { error = $"'{upload.FileName}' is not an image CoCa can read (PNG, JPEG, BMP, GIF, WebP or TIFF)." });
        }
        var ranked = prediction.Score.Select((score, k) => new ClassScore(classes[k], score))
            .OrderByDescending(c => c.Score).Take(Math.Clamp(top ?? 5, 1, classes.Length)).ToList();
        float labelScore = prediction.Score[Array.IndexOf(classes, prediction.PredictedLabel)];
        return Results.Ok(new ClassifyResponse(prediction.PredictedLabel, labelScore, ranked));
    }
    finally
    {
        File.Delete(path);
    }
});

app.Run();

// The class names: the slot names of the Score column (the trainer names them after the label's values).
static string[] ClassNames(DataViewSchema schema)
{
    var names = default(VBuffer<ReadOnlyMemory<char>>);
    schema["Score"].GetSlotNames(ref names);
    return names.DenseValues().Select(n => n.ToString()).ToArray();
}

/// <summary>The entry point, visible to WebApplicationFactory&lt;Program&gt; in the tests.</summary>
public partial class Program;

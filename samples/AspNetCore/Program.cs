// An image classifier saved with SaveCoCa (a folder-per-class model from `coca train`, samples/ImageClassification's
// image-classifier.zip, or your own pipeline ending in MapKeyToValue("PredictedLabel")) behind one endpoint:
//
//   dotnet run --project samples/AspNetCore -- --Model classifier.zip [--InputColumn Path] [--MaxUploadBytes 20000000] [--MaxImagePixels 40000000]
//   curl -F image=@photo.jpg http://localhost:5000/classify
//   → {"label":"cat","score":0.91,"top":[{"label":"cat","score":0.91},{"label":"dog","score":0.07},...]}
//
// The model is loaded once at start-up; each request borrows a PredictionEngine from a pool (they are not thread-safe).
using System.Globalization;
using CoCa.MLNet.Hosting;
using CoCa.MLNet.Preprocessing;
using CoCa.MLNet.Samples.AspNetCore;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);   // one line per message: a start-up failure is one line
// Uploads beyond this many bytes are refused before they are read (Kestrel's limit, and the form reader's). A value
// that is not a positive whole number fails the start below, as one logged line (not Kestrel's exception and stack).
string? uploadSetting = builder.Configuration["MaxUploadBytes"];
long maxUpload = 20_000_000;
bool uploadValid = uploadSetting is null
                   || long.TryParse(uploadSetting, NumberStyles.None, CultureInfo.InvariantCulture, out maxUpload) && maxUpload > 0;
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = uploadValid ? maxUpload : null);
builder.Services.AddCoCaPredictionEnginePool<ImageInput, ImagePrediction>((services, options) =>
{
    var configuration = services.GetRequiredService<IConfiguration>();
    options.ModelPath = configuration["Model"] ?? "classifier.zip";
    // The model's image column is read from the model (coca train models: "Path"); --InputColumn names it for a
    // pipeline whose saved input schema has more columns than the image.
    if (configuration["InputColumn"] is { } column) options.InputSchemaDefinition = ImageInput.Schema(column);
    // Images declaring more pixels are refused from their header, before decoding (default 40 megapixels).
    if (configuration.GetValue<long?>("MaxImagePixels") is { } pixels) options.MaxImagePixels = pixels;
});

var app = builder.Build();
CoCaPredictionEnginePool<ImageInput, ImagePrediction> pool;
try
{
    if (!uploadValid) throw new ArgumentException($"MaxUploadBytes must be a positive whole number of bytes, got '{uploadSetting}'.");
    pool = app.Services.GetRequiredService<CoCaPredictionEnginePool<ImageInput, ImagePrediction>>();   // load now, fail now
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // A missing or wrong model file, an input column the model does not have, a wrong limit: one line, a non-zero exit code.
    app.Logger.LogCritical("Cannot start: {Reason}", e.Message.ReplaceLineEndings(" "));
    await app.DisposeAsync();   // flushes the console logger
    return 1;
}
var classes = ClassNames(pool.OutputSchema);

app.MapPost("/classify", async (HttpRequest request, string? top) =>
{
    // ?top=N (read as text: a bound int? answers "abc" with an empty 400, not this service's one-line error).
    int topCount = 5;
    if (top is not null && !int.TryParse(top, NumberStyles.Integer, CultureInfo.InvariantCulture, out topCount))
        return Results.BadRequest(new { error = $"'top' must be a whole number of classes to list, got '{top}'." });
    if (request.ContentLength > maxUpload)
        return TooLarge($"The upload is {request.ContentLength} bytes; this service takes at most {maxUpload} bytes.");
    if (!request.HasFormContentType)
        return Results.BadRequest(new { error = "Send the image as multipart/form-data, field 'image' (curl -F image=@photo.jpg)." });
    IFormCollection form;
    try
    {
        form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxUpload });
    }
    catch (Exception e) when (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                              || e is InvalidDataException && e.Message.Contains("length limit", StringComparison.Ordinal))
    {
        // Kestrel's limit, or the form reader's MultipartBodyLengthLimit (an InvalidDataException, as malformed forms are).
        return TooLarge($"The upload is larger than the {maxUpload} bytes this service takes.");
    }
    catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
    {
        // No boundary, an empty body, a body cut off before its closing boundary: the client's mistake, not too large.
        return Results.BadRequest(new { error = $"The upload is not a readable multipart/form-data body: {e.Message.ReplaceLineEndings(" ")}" });
    }
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
        catch (Exception e) when (e.GetBaseException() is ImageTooLargeException big)
        {
            return TooLarge(string.Create(CultureInfo.InvariantCulture,
                $"'{upload.FileName}' is {big.Width}x{big.Height} ({big.Pixels / 1e6:0.#} megapixels); this service takes images of at most {big.MaxPixels / 1e6:0.#} megapixels."));
        }
        catch (Exception e) when (e.GetBaseException() is InvalidDataException)
        {
            return Results.BadRequest(new { error = $"'{upload.FileName}' is not an image CoCa can read (PNG, JPEG, BMP, GIF, WebP or TIFF)." });
        }
        var ranked = prediction.Score.Select((score, k) => new ClassScore(classes[k], score))
            .OrderByDescending(c => c.Score).Take(Math.Clamp(topCount, 1, classes.Length)).ToList();
        float labelScore = prediction.Score[Array.IndexOf(classes, prediction.PredictedLabel)];
        return Results.Ok(new ClassifyResponse(prediction.PredictedLabel, labelScore, ranked));
    }
    finally
    {
        File.Delete(path);
    }
});

app.Run();
return 0;

// 413 with the same one-line JSON error as the other refusals.
static IResult TooLarge(string error) => Results.Json(new { error }, statusCode: StatusCodes.Status413PayloadTooLarge);

// The class names: the slot names of the Score column (the trainer names them after the label's values).
static string[] ClassNames(DataViewSchema schema)
{
    var names = default(VBuffer<ReadOnlyMemory<char>>);
    schema["Score"].GetSlotNames(ref names);
    return names.DenseValues().Select(n => n.ToString()).ToArray();
}

/// <summary>The entry point, visible to WebApplicationFactory&lt;Program&gt; in the tests.</summary>
public partial class Program;

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CoCa.MLNet.Samples.AspNetCore;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CoCa.MLNet.Hosting.Tests;

/// <summary>
/// samples/AspNetCore, in process (WebApplicationFactory), over a SaveCoCa classifier: concurrent uploads get the
/// pipeline's own predictions; a bad upload gets a 400 with one clear line.
/// </summary>
[Collection(TinyClassifierCollection.Name)]
public sealed class ClassifierServiceTests(TinyClassifier classifier)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private WebApplicationFactory<Program> Start() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Model", classifier.ModelPath).UseSetting("InputColumn", TinyClassifier.InputColumn));

    private static MultipartFormDataContent Upload(byte[] bytes, string name, string field = "image")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { file, field, name } };
    }

    [FixtureFact]
    public async Task ConcurrentUploads_GetThePipelinesOwnPredictions()
    {
        using var factory = Start();
        using var client = factory.CreateClient();
        var requests = Enumerable.Range(0, 4).SelectMany(_ => classifier.Images.Select((path, i) => (path, i))).Select(async r =>
        {
            using var response = await client.PostAsync("/classify?top=2", Upload(await File.ReadAllBytesAsync(r.path), Path.GetFileName(r.path)));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return (r.i, Answer: JsonSerializer.Deserialize<ClassifyResponse>(body, Json)!);
        }).ToList();
        var answers = await Task.WhenAll(requests);

        Assert.Equal(4 * classifier.Images.Length, answers.Length);
        foreach (var (i, answer) in answers)
        {
            var expected = classifier.Expected[i];
            Assert.Equal(expected.PredictedLabel, answer.Label);
            float best = expected.Score.Max();
            Assert.True(Math.Abs(best - answer.Score) <= 1e-5f, $"image {i}: served score {answer.Score}, pipeline {best}");
            Assert.Equal(2, answer.Top.Count);
            Assert.Equal(answer.Label, answer.Top[0].Label);
            Assert.True(answer.Top[0].Score >= answer.Top[1].Score);
            Assert.True(Math.Abs(expected.Score.Sum() - answer.Top.Sum(t => t.Score)) <= 1e-5f);   // two classes: both listed
        }
    }

    [FixtureFact]
    public async Task BadUploads_Get400WithOneClearLine()
    {
        using var factory = Start();
        using var client = factory.CreateClient();

        using var text = await client.PostAsync("/classify", Upload("not an image"u8.ToArray(), "notes.txt"));
        await AssertOneLine(text, "'notes.txt' is not an image CoCa can read (PNG, JPEG, BMP, GIF, WebP or TIFF).");

        using var noFile = await client.PostAsync("/classify", Upload([1, 2, 3], "x.png", field: "photo"));
        await AssertOneLine(noFile, "The form has no file field 'image'.");

        using var notForm = await client.PostAsync("/classify", new ByteArrayContent([1, 2, 3]));
        await AssertOneLine(notForm, "Send the image as multipart/form-data");

        // The service still serves after bad requests.
        using var good = await client.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[0]), "img0.png"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static async Task AssertOneLine(HttpResponseMessage response, string expected)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error").GetString()!;
        Assert.DoesNotContain('\n', error);
        Assert.Contains(expected, error);
    }
}

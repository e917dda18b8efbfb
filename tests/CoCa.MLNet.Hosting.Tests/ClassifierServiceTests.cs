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

    private WebApplicationFactory<Program> Start(params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Model", classifier.ModelPath);
            foreach (var (key, value) in settings) b.UseSetting(key, value);
        });

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

    [FixtureFact]
    public async Task MalformedOrEmptyUploads_Get400WithOneLine_Not413Or500()
    {
        using var factory = Start();
        using var client = factory.CreateClient();
        static HttpContent Raw(byte[] body, string contentType)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return content;
        }

        // A multipart content type without its boundary (a hand-written curl -H): malformed, not too large.
        using var noBoundary = await client.PostAsync("/classify", Raw([1, 2, 3], "multipart/form-data"));
        await AssertOneLine(noBoundary, "not a readable multipart/form-data body");
        // An empty body (an empty form), and a body cut off before its closing boundary.
        using var empty = await client.PostAsync("/classify", Raw([], "multipart/form-data; boundary=xyz"));
        await AssertOneLine(empty, "The form has no file field 'image'.");
        var image = await File.ReadAllBytesAsync(classifier.Images[0]);
        var whole = await new MultipartFormDataContent("cut") { { new ByteArrayContent(image), "image", "img0.png" } }.ReadAsByteArrayAsync();
        using var truncated = await client.PostAsync("/classify", Raw(whole[..(whole.Length / 2)], "multipart/form-data; boundary=cut"));
        await AssertOneLine(truncated, "not a readable multipart/form-data body");
        // An empty file, and an image cut in half.
        using var emptyFile = await client.PostAsync("/classify", Upload([], "empty.png"));
        await AssertOneLine(emptyFile, "'empty.png' is not an image CoCa can read");
        using var half = await client.PostAsync("/classify", Upload(image[..(image.Length / 2)], "half.png"));
        await AssertOneLine(half, "'half.png' is not an image CoCa can read");

        // A ?top= that is not a number: the same one-line error, not an empty 400.
        using var badTop = await client.PostAsync("/classify?top=abc", Upload(image, "img0.png"));
        await AssertOneLine(badTop, "'top' must be a whole number of classes to list, got 'abc'.");

        using var good = await client.PostAsync("/classify", Upload(image, "img0.png"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [FixtureFact]
    public async Task TheInputColumn_IsReadFromTheModel_OrNamed()
    {
        // No InputColumn: the coca train model's one input column (Path) is read from the model.
        using (var factory = Start())
        using (var client = factory.CreateClient())
        {
            using var response = await client.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[0]), "img0.png"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(classifier.Expected[0].PredictedLabel, JsonSerializer.Deserialize<ClassifyResponse>(body, Json)!.Label);
        }
        // Named, as for a pipeline saved with more input columns than the image.
        using (var factory = Start(("InputColumn", TinyClassifier.InputColumn)))
        using (var client = factory.CreateClient())
        using (var response = await client.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[1]), "img1.png")))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [FixtureFact]
    public async Task AnImageOverThePixelBudget_IsRefusedFromItsHeader_With413()
    {
        using var factory = Start();
        using var client = factory.CreateClient();
        // 12000x12000 pixels in a 440 KB PNG: decoded, 576 MB of RGBA (and more to resize it).
        var bomb = HugePng.Create(12000, 12000);
        Assert.InRange(bomb.Length, 100_000, 1_000_000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var requests = Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await client.PostAsync("/classify", Upload(bomb, "bomb.png"));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        });
        foreach (var (status, body) in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
            Assert.Equal("'bomb.png' is 12000x12000 (144 megapixels); this service takes images of at most 40 megapixels.", error);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"four refusals took {clock.Elapsed}");

        // The budget is a setting; the service still serves images within it.
        using var small = Start(("MaxImagePixels", "1000"));
        using var smallClient = small.CreateClient();
        using var refused = await smallClient.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[0]), "img0.png"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        using var good = await client.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[0]), "img0.png"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [FixtureFact]
    public async Task AnUploadOverTheSizeLimit_Gets413WithOneLine()
    {
        // The fixture's images are up to 700 KB.
        using var factory = Start(("MaxUploadBytes", "300000"));
        using var client = factory.CreateClient();
        using var response = await client.PostAsync("/classify", Upload(new byte[400_000], "big.png"));
        await AssertOneLine(response, "this service takes at most 300000 bytes", HttpStatusCode.RequestEntityTooLarge);

        // Without a Content-Length (chunked), the form reader stops at the limit.
        var chunked = Upload(new byte[400_000], "big.png");
        await chunked.LoadIntoBufferAsync();
        var streamed = new StreamContent(await chunked.ReadAsStreamAsync());
        streamed.Headers.ContentType = chunked.Headers.ContentType;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/classify") { Content = streamed };
        request.Headers.TransferEncodingChunked = true;
        using var chunkedResponse = await client.SendAsync(request);
        await AssertOneLine(chunkedResponse, "larger than the 300000 bytes this service takes", HttpStatusCode.RequestEntityTooLarge);

        using var good = await client.PostAsync("/classify", Upload(await File.ReadAllBytesAsync(classifier.Images[0]), "img0.png"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static async Task AssertOneLine(HttpResponseMessage response, string expected, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error").GetString()!;
        Assert.DoesNotContain('\n', error);
        Assert.Contains(expected, error);
    }
}

using System.Text.Json;
using CoCa.MLNet.Persistence;
using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Tests.Runtime;

/// <summary>One device vocabulary ("cpu", "cuda", "cuda:N") read by one parser, for ONNX Runtime, TorchSharp and the CLI.</summary>
public class ComputeDeviceTests
{
    [Theory]
    [InlineData("cpu", null, "cpu")]
    [InlineData(" CPU ", null, "cpu")]
    [InlineData("cuda", 0, "cuda:0")]
    [InlineData("CUDA:3", 3, "cuda:3")]
    [InlineData("cuda:0", 0, "cuda:0")]
    public void Parse_GoodNames(string text, int? index, string canonical)
    {
        var device = ComputeDevice.Parse(text);
        Assert.Equal(index, device.CudaIndex);
        Assert.Equal(index is not null, device.IsCuda);
        Assert.Equal(canonical, device.ToString());
        Assert.Equal(device, ComputeDevice.Parse(device.ToString()));
    }

    [Theory]
    [InlineData("gpu0")]
    [InlineData("gpu")]
    [InlineData("")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cuda0")]
    [InlineData("cuda:1:2")]
    public void Parse_BadNames_OneClearLine(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Parse(text));
        Assert.Equal($"Device '{text}' is not recognised; expected \"cpu\", \"cuda\" or \"cuda:N\".", e.Message);
        Assert.False(ComputeDevice.TryParse(text, out _));
        // The ONNX Runtime option refuses it where it is set, with the same line.
        var onnx = Assert.Throws<ArgumentException>(() => new OnnxExecutionOptions { Device = text });
        Assert.Equal(e.Message, onnx.Message);
    }

    [Fact]
    public void OnnxExecutionOptions_DeviceDefaultsToCpu_AndKeepsTheCanonicalName()
    {
        Assert.Equal("cpu", new OnnxExecutionOptions().Device);
        Assert.False(new OnnxExecutionOptions().ComputeDevice.IsCuda);
        Assert.Equal("cuda:0", new OnnxExecutionOptions { Device = "CUDA" }.Device);
    }

    [Fact]
    public void OnnxExecutionOptions_RoundTripThroughTheSavedModelJson_AndReadOldGpuDeviceId()
    {
        var options = new OnnxExecutionOptions { Device = "cuda:1", IntraOpNumThreads = 3, FallbackToCpu = false };
        var json = JsonSerializer.Serialize(options, PackageJson.Options);
        Assert.Contains("\"device\": \"cuda:1\"", json);
        Assert.DoesNotContain("gpu_device_id", json);
        Assert.Equal(options, JsonSerializer.Deserialize<OnnxExecutionOptions>(json, PackageJson.Options));

        // Models saved before Device existed stored gpu_device_id.
        var old = JsonSerializer.Deserialize<OnnxExecutionOptions>("""{"intra_op_num_threads": 0, "inter_op_num_threads": 0, "gpu_device_id": 2, "fallback_to_cpu": true}""", PackageJson.Options)!;
        Assert.Equal("cuda:2", old.Device);
        var oldCpu = JsonSerializer.Deserialize<OnnxExecutionOptions>("""{"intra_op_num_threads": 0, "inter_op_num_threads": 0, "gpu_device_id": null, "fallback_to_cpu": true}""", PackageJson.Options)!;
        Assert.Equal("cpu", oldCpu.Device);
    }

    [FixtureFact]
    public void CudaDevice_WithoutCuda_FallsBackToTheCpu_OrSaysWhy()
    {
        if (OnnxSessions.CudaAvailable) return;   // this check is about machines without CUDA (CI)
        var model = File.ReadAllBytes(Path.Combine(TinyModel.Directory, "vision.onnx"));
        using (OnnxSessions.Create(model, new OnnxExecutionOptions { Device = "cuda:0" }, "the vision tower", out bool onGpu))
            Assert.False(onGpu);
        var e = Assert.Throws<InvalidOperationException>(() => OnnxSessions.Create(model, new OnnxExecutionOptions { Device = "cuda", FallbackToCpu = false }, "the vision tower", out _));
        Assert.Contains("Cannot run the vision tower on CUDA device 0", e.Message);
    }
}

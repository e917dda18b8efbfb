using CoCa.MLNet.Training.Devices;
using TorchSharp;

namespace CoCa.MLNet.Training.Tests.Devices;

public sealed class TorchDevicesTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void Parse_Cpu(string text) => Assert.Equal(DeviceType.CPU, TorchDevices.Parse(text).type);

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda0")]
    [InlineData("")]
    public void Parse_UnknownText_NamesInputAndAcceptedForms(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => TorchDevices.Parse(text));
        Assert.Contains($"'{text}'", ex.Message);
        Assert.Contains("\"cuda:N\"", ex.Message);
    }

    [Theory]
    [InlineData("cuda", 0)]
    [InlineData("CUDA:1", 1)]
    public void Parse_Cuda_ResolvesOrExplainsWhyNot(string text, int index)
    {
        if (!torch.cuda.is_available())
        {
            var ex = Assert.Throws<InvalidOperationException>(() => TorchDevices.Parse(text));
            Assert.Contains("TorchSharp-cuda-linux", ex.Message);
            return;
        }
        if (index >= torch.cuda.device_count())
        {
            Assert.Throws<ArgumentException>(() => TorchDevices.Parse(text));
            return;
        }
        var device = TorchDevices.Parse(text);
        Assert.Equal(DeviceType.CUDA, device.type);
        Assert.Equal(index, device.index);
    }
}

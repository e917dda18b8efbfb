using CoCa.MLNet.Configuration;
using CoCa.MLNet.Preprocessing;

namespace CoCa.MLNet.Tests.Preprocessing;

/// <summary>
/// A 16-bit greyscale PNG opens in PIL as mode "I": values 0–65535, resized as integers, clipped to 255 only by
/// convert("RGB"). The expected bytes are Pillow 9.4's (Data/make_grey16.py), for a picture whose values straddle 255.
/// </summary>
public sealed class Grey16PngTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Preprocessing", "Data", name);

    [Fact]
    public void OpensAsModeI_AndConvertsToRgbByClipping_AsPillow()
    {
        var image = ImageDecoder.DecodeKeepingMode(Data("grey16.png"));
        Assert.Equal(PilImageMode.Integer, image.Mode);
        Assert.Equal(File.ReadAllBytes(Data("grey16_rgb.bin")), image.ToRgb().Pixels);
    }

    [Fact]
    public void OpenClipPreprocessing_ResizesTheIntegersThenClips_AsPillow()
    {
        var config = new PreprocessConfig { ImageSize = 64, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f], Interpolation = "bicubic", ResizeMode = "shortest" };
        var preprocessor = new CoCaImagePreprocessor(config);
        var actual = new float[preprocessor.OutputLength];
        preprocessor.Preprocess(Data("grey16.png"), actual);

        // Pillow's 64x64 result, put through the same normalization (a 64x64 RGB image is not resized again).
        var expected = new float[preprocessor.OutputLength];
        preprocessor.Preprocess(new RgbImage(64, 64, File.ReadAllBytes(Data("grey16_resized.bin"))), expected);
        Assert.Equal(expected, actual);
    }
}
